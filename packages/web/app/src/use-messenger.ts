import { useEffect, useReducer } from 'preact/hooks';
import type { Messenger } from './messenger.js';

/** Renders the component again whenever the messenger's state changes. */
export function useMessenger(messenger: Messenger): Messenger {
  const [, rerender] = useReducer((n: number, _: void) => n + 1, 0);
  useEffect(() => messenger.subscribe(rerender), [messenger]);
  return messenger;
}
