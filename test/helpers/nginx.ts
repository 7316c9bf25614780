import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './cli.js';
import { eventually } from './wait.js';

export const NGINX = process.env['GALLEY_TEST_NGINX'] ?? '/usr/sbin/nginx';

export interface Balancer {
  url: string;
  stop(): Promise<void>;
}

/**
 * Debian's nginx as a round-robin load balancer (no sticky sessions) in front of `upstreams`,
 * with a config written to `dir`: consecutive requests of one client reach different nodes.
 * Streams are passed through unbuffered, as a production config for realtime would.
 */
export async function startBalancer(dir: string, upstreams: string[]): Promise<Balancer> {
  const port = await freePort();
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const temp = (name: string) => `${name}_temp_path ${join(dir, name)};`;
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `daemon off;
worker_processes 1;
${process.getuid?.() === 0 ? 'user root;' : ''}
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'logs', 'error.log')} warn;
events { worker_connections 4096; }
http {
  access_log off;
  ${['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(temp).join('\n  ')}
  upstream galley { ${upstreams.map((u) => `server ${u.replace(/^https?:\/\//, '')} max_fails=1 fail_timeout=30s;`).join(' ')} }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://galley;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_read_timeout 1h;
    }
  }
}
`,
  );
  const child: ChildProcess = spawn(NGINX, ['-c', conf, '-p', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const url = `http://127.0.0.1:${port}`;
  await eventually(async () => {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${stderr}`);
    return fetch(`${url}/api/health`).then((r) => r.ok, () => false);
  }, 30_000);
  return {
    url,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('close', r));
    },
  };
}

export const hasNginx = (): boolean => existsSync(NGINX);
