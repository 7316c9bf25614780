import { useEffect, useState } from 'preact/hooks';
import { fileUrls } from '../lib/fileToken';
import { formatBytes, isImageFile, itemKey, itemName, maxSizeOf, type FileItem } from '../lib/files';
import type { FileField, RecordData } from '../types';

export type FileAction = 'up' | 'down' | 'remove';

interface Props {
  field: FileField;
  item: FileItem;
  /** The record the stored files belong to (null while creating). */
  record: RecordData | null;
  token: string | null;
  canUp: boolean;
  canDown: boolean;
  multiple: boolean;
  onAction: (action: FileAction) => void;
}

/** A queued image's preview: an object URL, revoked when the row goes away. */
function useObjectUrl(file: File | null): string | null {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    if (!file) return;
    const u = URL.createObjectURL(file);
    setUrl(u);
    return () => URL.revokeObjectURL(u);
  }, [file]);
  return url;
}

function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot + 1, dot + 5).toUpperCase() : 'FILE';
}

/** Problems the server will report for a queued file (shown at once; the server still decides). */
function queuedWarning(field: FileField, file: File): string | null {
  const max = maxSizeOf(field);
  if (file.size > max) return `Larger than the ${formatBytes(max)} limit.`;
  if (field.mimeTypes?.length && file.type && !field.mimeTypes.includes(file.type)) return `Type ${file.type} is not allowed.`;
  return null;
}

/** One file of a file field: preview (thumb or type badge), name/link, and its buttons. */
export function FileItemRow({ field, item, record, token, canUp, canDown, multiple, onAction }: Props) {
  const name = itemName(item);
  const queued = item.kind === 'new' ? item.file : null;
  const localUrl = useObjectUrl(queued && isImageFile(queued) ? queued : null);
  const urls = item.kind === 'stored' && record ? fileUrls(record, item.name, field.protected, token) : null;
  const thumb = queued ? localUrl : (urls?.thumb ?? null);
  const warning = queued ? queuedWarning(field, queued) : null;

  return (
    <li class={`file-item ${queued ? 'file-new' : ''}`} data-key={itemKey(item)} data-name={name} data-kind={item.kind} data-testid={`file-item-${field.name}`}>
      {thumb ? (
        <img class="file-thumb" src={thumb} alt="" width={40} height={40} data-testid="file-thumb" />
      ) : (
        <span class="file-thumb file-badge" aria-hidden="true">
          {extensionOf(name)}
        </span>
      )}
      <span class="file-info">
        {urls ? (
          <a href={urls.view} target="_blank" rel="noopener noreferrer" class="file-name" title={name} data-testid="file-link">
            {name}
          </a>
        ) : (
          <span class="file-name" title={name}>
            {name}
          </span>
        )}
        <span class="muted small file-meta">
          {queued && <span>New · {formatBytes(queued.size)} · uploaded on save</span>}
          {!queued && !urls && field.protected && record && <span>Protected: waiting for a file token…</span>}
          {urls && (
            <a href={urls.download} download={name} aria-label={`Download ${name}`} data-testid="file-download">
              Download
            </a>
          )}
        </span>
        {warning && <span class="file-warning small">{warning}</span>}
      </span>
      <span class="file-actions">
        {multiple && (
          <>
            <button type="button" class="btn btn-small btn-ghost" data-action="up" onClick={() => onAction('up')} disabled={!canUp} aria-label={`Move ${name} up`}>
              ↑
            </button>
            <button type="button" class="btn btn-small btn-ghost" data-action="down" onClick={() => onAction('down')} disabled={!canDown} aria-label={`Move ${name} down`}>
              ↓
            </button>
          </>
        )}
        <button type="button" class="btn btn-small btn-ghost" data-action="remove" onClick={() => onAction('remove')} aria-label={`Remove ${name}`}>
          ×
        </button>
      </span>
    </li>
  );
}
