import { drainFill, drainReceive } from './drain-worker.js';
import { fanoutMembers, fanoutMembersClose, fanoutMemberStats, fanoutSend, fanoutSenderClose, fanoutSenderStats } from './fanout-worker.js';
import { mediaUpload } from './media-worker.js';
import { pairsClose, pairsConnect, pairsStep } from './pairs-worker.js';
import { socketsCheck, socketsClose, socketsOpen } from './sockets-worker.js';

/** Every method a parent may call in a worker process, by name. */
export const workerMethods: Record<string, (args: any) => Promise<unknown>> = {
  pairsConnect,
  pairsStep,
  pairsClose,
  socketsOpen,
  socketsCheck,
  socketsClose,
  drainFill,
  drainReceive,
  fanoutMembers,
  fanoutMemberStats,
  fanoutMembersClose,
  fanoutSend,
  fanoutSenderStats,
  fanoutSenderClose,
  mediaUpload,
};
