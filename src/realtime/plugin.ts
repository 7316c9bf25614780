import type { Collection } from '../schema/index.js';
import type { RecordWrite, StageHandlers, WriteAction, WritePlugin } from '../records/plugins.js';
import type { Delivery } from './access.js';

/** What the plugin asks of the realtime service. */
export interface RealtimePublisher {
  /** After the commit of a create or update: decide and send in the background. */
  published(w: RecordWrite): void;
  /** Inside a delete's transaction, before the row goes: who may see it, and what they get. */
  beforeDelete(w: RecordWrite): Promise<Delivery[] | null>;
  /** After the commit of a delete: send what beforeDelete prepared. */
  deleted(w: RecordWrite, prepared: Delivery[] | null): void;
}

/**
 * Realtime in the write pipeline: events leave at the `committed` stage, so every write path
 * (REST, batch, cascades, hooks' data API, the CLI) publishes, and only once its transaction has
 * committed (a rollback drops the queued work: nothing is published). A delete's audience and
 * payload are decided in `prepare`, while the record is still there to check rules against.
 */
export function realtimePlugin(publisher: RealtimePublisher): WritePlugin {
  const plugin: WritePlugin = {
    name: 'realtime',
    handlersFor(collection: Collection, action: WriteAction): StageHandlers | null {
      if (collection.type === 'view') return null;
      if (action !== 'delete') return { committed: (w) => publisher.published(w) };
      return {
        prepare: async (w) => {
          w.state.set(plugin, await publisher.beforeDelete(w));
        },
        committed: (w) => publisher.deleted(w, (w.state.get(plugin) as Delivery[] | null | undefined) ?? null),
      };
    },
  };
  return plugin;
}
