import { contextBridge, ipcRenderer } from 'electron';
import { callNames, eventNames } from '../contract/channels';

const allowedCalls = new Set<string>(callNames);
const allowedEvents = new Set<string>(eventNames);

/**
 * The renderer's only door to the main process: one allow-listed invoke and one event
 * subscription. Raw ipcRenderer is never exposed.
 */
contextBridge.exposeInMainWorld('mitobench', {
  invoke(name: string, input: unknown): Promise<unknown> {
    if (!allowedCalls.has(name)) return Promise.reject(new Error(`call "${name}" is not allowed`));
    return ipcRenderer.invoke('mitobench:call', name, input);
  },
  on(name: string, listener: (payload: unknown) => void): () => void {
    if (!allowedEvents.has(name)) throw new Error(`event "${name}" is not allowed`);
    const forward = (_event: unknown, payload: unknown) => listener(payload);
    ipcRenderer.on(`mitobench:event:${name}`, forward);
    return () => ipcRenderer.removeListener(`mitobench:event:${name}`, forward);
  },
  tileRoot: 'slide://tiles/',
});
