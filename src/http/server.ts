import { createServer, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Express } from 'express';
import { AppError } from '../errors/index.js';
import { errorBody } from './error-handler.js';

/**
 * Node's default 16 KiB header limit answers a long (percent-encoded) filter with a bare 431;
 * with 64 KiB the request reaches the API, which refuses filters over 3500 characters in JSON.
 */
export const MAX_HEADER_SIZE = 64 * 1024;

/** The HTTP server around the Express app: requests Node's parser refuses get the JSON error shape too. */
export function createHttpServer(app: Express): Server {
  const server = createServer({ maxHeaderSize: MAX_HEADER_SIZE }, app);
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => answerClientError(err, socket));
  return server;
}

/** A request the HTTP parser could not read (headers over the limit, malformed request line): no Express handler runs. */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const error = err.code === 'HPE_HEADER_OVERFLOW' ? new AppError('request_header_too_large') : new AppError('bad_request');
  const body = JSON.stringify(errorBody(error));
  const reason = error.status === 431 ? 'Request Header Fields Too Large' : 'Bad Request';
  socket.end(`HTTP/1.1 ${error.status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
