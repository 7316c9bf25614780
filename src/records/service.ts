/**
 * The records service: what the HTTP routes, the auth flows, the CLI and (through their data API)
 * hooks call. Reads are in read.ts; every write goes through the one pipeline (pipeline.ts) by way
 * of create.ts, update.ts and delete.ts.
 */
export { createRecord, insertFinalRecord } from './create.js';
export { deleteRecord } from './delete.js';
export { checkIfMatch, newTokenKey, rotateTokenKey, type WriteOptions } from './pipeline.js';
export {
  authRecordOf,
  etagListHas,
  etagOf,
  findRuntime,
  listRecords,
  loadOne,
  viewRecord,
  type ListResult,
  type RecordQuery,
  type RecordResult,
  type RecordsDeps,
} from './read.js';
export { updateRecord, writeAuthFields } from './update.js';
