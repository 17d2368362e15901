import { MemoryBus } from '../src/adapters/bus/memory/memory-bus.js';
import { runBusContract } from './support/bus-contract.js';

runBusContract('MemoryBus', async () => new MemoryBus(), { multiNode: false });
