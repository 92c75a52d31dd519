/**
 * The per-session timeline of a bench scenario in sandbox time (`DIALTONE_BENCH_TIMELINE=file`):
 * what each Teams session ran when, where it sat idle, and the burst's milestones (connects,
 * shared reads, the Sets, batch operations submitted and polled, one-by-one grants). Runs of the
 * same cmdlet are folded into one line, so a burst of 100 reads as a page.
 */
import type { TeamsCallRecord } from '../../sandbox/teams-sim/index.js';

const short = (cmdlet: string): string =>
  cmdlet
    .replace('New-CsBatchPolicyAssignmentOperation', 'batch submit')
    .replace('Get-CsBatchPolicyAssignmentOperation', 'batch poll')
    .replace('Connect-MicrosoftTeams', 'Connect')
    .replace('Set-CsPhoneNumberAssignment', 'Set')
    .replace('Get-CsPhoneNumberAssignment', 'Get-Assignment');

export function formatTimeline(calls: readonly TeamsCallRecord[], startMs: number): string {
  const s = (ms: number) => ((ms - startMs) / 1000).toFixed(1);
  const end = Math.max(startMs, ...calls.map((c) => c.endMs));
  const bySession = new Map<string, TeamsCallRecord[]>();
  for (const call of [...calls].sort((a, b) => a.startMs - b.startMs || a.endMs - b.endMs)) {
    const list = bySession.get(call.session) ?? [];
    list.push(call);
    bySession.set(call.session, list);
  }
  const lines: string[] = [`makespan ${s(end)} s; ${bySession.size} sessions; times in sandbox seconds from the first event`];
  const first = (cmdlet: string) => calls.filter((c) => c.cmdlet === cmdlet).sort((a, b) => a.startMs - b.startMs);
  const milestones: [string, TeamsCallRecord[]][] = [
    ['connects', first('Connect-MicrosoftTeams')],
    ['Sets', first('Set-CsPhoneNumberAssignment')],
    ['batch submits', first('New-CsBatchPolicyAssignmentOperation')],
    ['batch polls', first('Get-CsBatchPolicyAssignmentOperation')],
    ['one-by-one grants', calls.filter((c) => c.cmdlet.startsWith('Grant-Cs')).sort((a, b) => a.startMs - b.startMs)],
    ['shared reads', calls.filter((c) => c.cmdlet === 'Get-CsOnlineUser' && c.users > 1).sort((a, b) => a.startMs - b.startMs)],
  ];
  for (const [name, list] of milestones) {
    if (list.length === 0) {
      lines.push(`${name}: none`);
      continue;
    }
    const ends = list.map((c) => c.endMs);
    lines.push(`${name}: ${list.length}, first started ${s(list[0]!.startMs)}, last ended ${s(Math.max(...ends))}${name === 'batch submits' ? ` (users ${list.map((c) => c.users).join(', ')}; started ${list.map((c) => s(c.startMs)).join(', ')})` : ''}`);
  }
  for (const [session, list] of bySession) {
    let busy = 0;
    let at = startMs;
    let idle = 0;
    const parts: string[] = [];
    let run: { cmdlet: string; from: number; to: number; n: number; users: number } | undefined;
    const flush = () => {
      if (run) parts.push(`${s(run.from)}–${s(run.to)} ${short(run.cmdlet)}${run.n > 1 ? ` ×${run.n}` : ''}${run.users > run.n ? ` (${run.users} users)` : ''}`);
      run = undefined;
    };
    for (const call of list) {
      const gap = call.startMs - at;
      if (gap > 0) {
        idle += gap;
        if (gap >= 500) {
          flush();
          parts.push(`idle ${(gap / 1000).toFixed(1)}`);
        }
      }
      busy += call.endMs - call.startMs;
      at = Math.max(at, call.endMs);
      if (run && run.cmdlet === call.cmdlet && call.startMs - run.to < 500) {
        run.to = call.endMs;
        run.n += 1;
        run.users += call.users;
      } else {
        flush();
        run = { cmdlet: call.cmdlet, from: call.startMs, to: call.endMs, n: 1, users: call.users };
      }
    }
    flush();
    idle += end - at;
    if (end - at >= 500) parts.push(`idle ${((end - at) / 1000).toFixed(1)} to the end`);
    lines.push(`session ${session}: busy ${(busy / 1000).toFixed(1)} s, idle ${(idle / 1000).toFixed(1)} s`);
    for (const part of parts) lines.push(`  ${part}`);
  }
  return `${lines.join('\n')}\n`;
}
