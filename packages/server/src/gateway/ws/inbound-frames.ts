import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { CourierError } from '../../domain/errors.js';
import { EXPIRES_IN, MAX_EMOJI_LENGTH } from '../../domain/message-actions.js';
import type { ClientFrame, ClientFrameType } from '../../session/client-frames.js';

const Id = Type.String({ minLength: 1, maxLength: 128 });
const Address = Type.String({ minLength: 1, maxLength: 64 });
const Media = Type.Object({
  hash: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  mime: Type.String({ minLength: 3, maxLength: 255 }),
  size: Type.Integer({ minimum: 0 }),
  thumbnail: Type.Optional(Type.String()),
  caption: Type.Optional(Type.String({ maxLength: 4096 })),
});

/** One schema per client frame type; unknown fields are allowed and ignored. */
const schemas = {
  auth: Type.Object({ type: Type.Literal('auth'), token: Type.String({ minLength: 1, maxLength: 512 }) }),
  send: Type.Object({
    type: Type.Literal('send'),
    id: Id,
    to: Address,
    body: Type.Optional(Type.String()),
    media: Type.Optional(Media),
    replyTo: Type.Optional(Id),
    expiresIn: Type.Optional(Type.Integer({ minimum: EXPIRES_IN.min, maximum: EXPIRES_IN.max })),
  }),
  edit: Type.Object({ type: Type.Literal('edit'), id: Id, to: Address, target: Id, body: Type.String() }),
  delete: Type.Object({ type: Type.Literal('delete'), id: Id, to: Address, target: Id }),
  react: Type.Object({ type: Type.Literal('react'), id: Id, to: Address, target: Id, emoji: Type.String({ maxLength: MAX_EMOJI_LENGTH }) }),
  ack: Type.Object({ type: Type.Literal('ack'), upTo: Type.Integer({ minimum: 0 }) }),
  read: Type.Object({ type: Type.Literal('read'), serverIds: Type.Array(Id, { minItems: 1, maxItems: 1000 }) }),
  typing: Type.Object({ type: Type.Literal('typing'), to: Address, active: Type.Boolean() }),
  'presence.subscribe': Type.Object({ type: Type.Literal('presence.subscribe'), users: Type.Array(Address, { minItems: 1, maxItems: 1000 }) }),
  ping: Type.Object({ type: Type.Literal('ping') }),
} satisfies Record<ClientFrameType, TSchema>;

// The schemas and the session's frame types must describe the same frames.
type Parsed = { [K in keyof typeof schemas]: Static<(typeof schemas)[K]> }[keyof typeof schemas];
const _sameFrames: [Parsed] extends [ClientFrame] ? ([ClientFrame] extends [Parsed] ? true : never) : never = true;
void _sameFrames;

const checks = Object.fromEntries(Object.entries(schemas).map(([type, schema]) => [type, TypeCompiler.Compile(schema)])) as unknown as Record<
  ClientFrameType,
  TypeCheck<TSchema>
>;

export type ParseResult = { ok: true; frame: ClientFrame } | { ok: false; error: CourierError; ref?: string };

/** Turns a text frame into a typed client frame, or says precisely what is wrong with it. */
export function parseClientFrame(text: string): ParseResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // The parser's own message says only where it stopped; the client needs no more.
    return { ok: false, error: new CourierError('invalid_json', 'The frame is not valid JSON.') };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, error: new CourierError('invalid_frame', 'A frame must be a JSON object.') };
  }
  const record = value as Record<string, unknown>;
  const ref = typeof record.id === 'string' ? record.id : undefined;
  const type = record.type;
  if (typeof type !== 'string') {
    return { ok: false, error: new CourierError('invalid_frame', 'A frame needs a string "type".'), ...(ref && { ref }) };
  }
  const check = Object.hasOwn(checks, type) ? checks[type as ClientFrameType] : undefined;
  if (check === undefined) {
    return { ok: false, error: new CourierError('unknown_type', `Unknown frame type "${type.slice(0, 64)}".`), ...(ref && { ref }) };
  }
  if (!check.Check(value)) {
    const first = check.Errors(value).First();
    const where = first?.path ? first.path.slice(1).replaceAll('/', '.') : 'frame';
    const message = `Invalid "${type}" frame: ${where}: ${first?.message ?? 'does not match the schema'}.`;
    return { ok: false, error: new CourierError('invalid_frame', message), ...(ref && { ref }) };
  }
  return { ok: true, frame: value as ClientFrame };
}

/** The client id a frame carried, for the `ref` of an error about it. */
export function refOf(result: ParseResult): string | undefined {
  if (!result.ok) return result.ref;
  return 'id' in result.frame ? result.frame.id : undefined;
}
