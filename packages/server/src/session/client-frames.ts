import type { MediaRef } from '../domain/events.js';

/** Frames a client sends, as the gateway hands them over once they passed their schema. */
export type ClientFrame =
  | { type: 'auth'; token: string }
  | { type: 'send'; id: string; to: string; body?: string; media?: MediaRef }
  | { type: 'ack'; upTo: number }
  | { type: 'read'; serverIds: string[] }
  | { type: 'typing'; to: string; active: boolean }
  | { type: 'presence.subscribe'; users: string[] }
  | { type: 'ping' };

export type ClientFrameType = ClientFrame['type'];
