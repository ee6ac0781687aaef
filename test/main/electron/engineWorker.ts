/**
 * The desktop engine process (main/electron/engineProcess.ts runEngineProcess) in a worker thread,
 * for tests: Electron's utility process is not available here, its control channel is. Electron's
 * ParentPort delivers `{ data, ports }`; the test posts exactly that shape through the worker's
 * parentPort (transferring the ports), so the code under test sees what it sees in Electron.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { silentLogger } from '../../../main/engine/logger.js';
import { runEngineProcess, type ControlPort } from '../../../main/electron/engineProcess.js';

const port = parentPort;
if (!port) throw new Error('engineWorker.js runs as a worker thread');
const { workspace, dataDir } = workerData as { workspace: string; dataDir: string };
const control: ControlPort = {
  on: (_event, listener) => port.on('message', (message) => listener(message as Parameters<typeof listener>[0])),
  postMessage: (message) => port.postMessage(message),
};
runEngineProcess(control, {
  workspace,
  dataDir,
  logger: silentLogger(),
  // Tests never bind 1883: the explorer starts without its default embedded broker.
  defaultBroker: false,
  onDidStop: () => port.postMessage({ type: 'stopped' }),
});
