import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/**
 * CPU use during a benchmark run, from Linux /proc: the bench and its server, PostgreSQL, and
 * everything else on the machine (which skews the figures and is printed next to them).
 */
export interface CpuSnapshot {
  total: number;
  idle: number;
  /** pid → [ours | postgres | other, utime + stime]. */
  procs: Map<number, ['ours' | 'postgres' | 'other', number]>;
}

/** Jiffies from /proc: the whole machine, and each process (the given pids are ours). Linux only (else null). */
export function cpuSnapshot(pids: number[]): CpuSnapshot | null {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
    const snap: CpuSnapshot = { total: fields.reduce((a, b) => a + b, 0), idle: fields[3]! + fields[4]!, procs: new Map() };
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      } catch {
        continue; // exited meanwhile
      }
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const rest = stat.slice(close + 2).split(' ');
      const pid = Number(entry);
      snap.procs.set(pid, [pids.includes(pid) ? 'ours' : comm === 'postgres' ? 'postgres' : 'other', Number(rest[11]) + Number(rest[12])]); // utime + stime
    }
    return snap;
  } catch {
    return null;
  }
}

/**
 * Cores used during the interval by us (server + autocannon), by PostgreSQL, and by everything else
 * (machine busy time minus the first two: it includes processes that ran and exited meanwhile).
 * Per-process deltas, so a process that exits during the run (an idle pool connection closing) does not
 * take its earlier CPU time with it.
 */
export function cpuUse(a: CpuSnapshot, b: CpuSnapshot): { benchAndServer: number; postgres: number; other: number } {
  const perCore = (b.total - a.total) / cpus().length;
  const busy = b.total - a.total - (b.idle - a.idle);
  const sums = { ours: 0, postgres: 0, other: 0 };
  for (const [pid, [kind, jiffies]] of b.procs) sums[kind] += jiffies - (a.procs.get(pid)?.[1] ?? 0);
  const round = (n: number) => Math.round((n / perCore) * 100) / 100;
  return { benchAndServer: round(sums.ours), postgres: round(sums.postgres), other: round(Math.max(0, busy - sums.ours - sums.postgres)) };
}
