import type { MediaRef } from '../domain/events.js';

/** Frames a client sends, as the gateway hands them over once they passed their schema. */
export type ClientFrame =
  | { type: 'auth'; token: string }
  | { type: 'send'; id: string; to: string; body?: string; media?: MediaRef; replyTo?: string; expiresIn?: number }
  | { type: 'edit'; id: string; to: string; target: string; body: string }
  | { type: 'delete'; id: string; to: string; target: string }
  | { type: 'react'; id: string; to: string; target: string; emoji: string }
  | { type: 'ack'; upTo: number }
  | { type: 'read'; serverIds: string[] }
  | { type: 'typing'; to: string; active: boolean }
  | { type: 'presence.subscribe'; users: string[] }
  | { type: 'ping' };

export type ClientFrameType = ClientFrame['type'];

/** The frames that act on an earlier message. */
export type ActionFrame = Extract<ClientFrame, { type: 'edit' | 'delete' | 'react' }>;
