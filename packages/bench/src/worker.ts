/**
 * Entry point of a load-generator process. The parent calls named methods; each scenario's
 * worker side keeps its sockets in the worker between calls.
 */
import { workerMethods } from './scenarios/worker-methods.js';

interface Call {
  callId: number;
  method: string;
  args: unknown;
}

const send = (message: unknown) => process.send!(message);

process.on('message', (call: Call) => {
  const method = workerMethods[call.method];
  if (method === undefined) {
    send({ callId: call.callId, error: `unknown method ${call.method}` });
    return;
  }
  method(call.args).then(
    (result) => send({ callId: call.callId, result }),
    (err: unknown) => send({ callId: call.callId, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
  );
});

// Without its parent the worker has nothing to do: leave rather than hold sockets open.
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
