import { IDS_PER_POD, KUBELET_MAX_PODS, podIdBlocks } from '../../kube/user-namespaces.js';
import { shellLine, shellQuote } from '../../host/shell-quote.js';
import { isOwner, type Account, type HostFacts, type SubIdRange } from '../facts.js';
import type { Check, CheckResult } from '../finding.js';
import type { Fix } from '../fix-steps.js';

const NODE_IDS = 65536;
const FILES = ['/etc/subuid', '/etc/subgid'] as const;

interface FileReport {
  file: (typeof FILES)[number];
  mine: SubIdRange[];
  total: number;
  overlaps: string[];
  /** Where a new range for this user would go: above every range in the file. */
  freeStart: number;
}

export const subidRange: Check = {
  id: 'subid.range',
  async run({ facts, user }) {
    const account = await facts.account(user);
    const reports = await Promise.all(FILES.map((file) => report(facts, account, file)));
    const problems: string[] = [];
    for (const { file, mine, total, overlaps } of reports) {
      if (mine.length === 0) problems.push(`${account.name} has no range in ${file}`);
      else if (total < NODE_IDS) problems.push(`${account.name} has ${total} ids in ${file}, fewer than ${NODE_IDS}`);
      if (overlaps.length > 0) problems.push(`${file}: ${overlaps.join('; ')}`);
    }
    const additions = reports.filter(({ total }) => total < NODE_IDS).map(addition);
    const fix = additions.length > 0 ? addRangesFix(account, additions) : undefined;
    if (problems.length > 0) {
      const overlapping = reports.some(({ overlaps }) => overlaps.length > 0);
      const remedy = [
        additions.length > 0 ? `as root: ${shellLine(['usermod', ...additions.flatMap(({ flag, range }) => [flag, range]), '--', account.name])}` : '',
        overlapping
          ? `give ${account.name} ids no other account uses: usermod --del-subuids/--del-subgids FIRST-LAST ${account.name}, then --add-subuids/--add-subgids a free range, then podman system migrate`
          : '',
      ]
        .filter(Boolean)
        .join('; ');
      return { status: 'fail', summary: problems.join('; '), remedy, ...(fix ? { fix } : {}) };
    }
    const podBlocks = podRanges(Math.min(...reports.map(({ total }) => total)));
    const describe = (r: FileReport) => `${r.file.slice(5)} ${r.mine.map((range) => `${range.start}+${range.count}`).join(',')}`;
    const summary = `${reports.map(describe).join(', ')}; room for ${podBlocks} user-namespaced pod ranges of ${IDS_PER_POD} (the kubelet wants ${KUBELET_MAX_PODS})`;
    return { status: 'pass', summary, remedy: '' } satisfies CheckResult;
  },
};

/** In the node the user is id 0 and its sub-ids follow from 1: the node maps subIds + 1 ids (as `up` reads from its uid_map). */
export function podRanges(subIds: number): number {
  return podIdBlocks(subIds + 1);
}

async function report(facts: HostFacts, account: Account, file: FileReport['file']): Promise<FileReport> {
  const ranges = await facts.subIds(file);
  const accounts = await facts.accounts();
  const ownerName = (owner: string) => accounts.find((a) => String(a.uid) === owner)?.name ?? owner;
  const mine = await facts.subIdsOf(account, file);
  const others = ranges.filter((range) => !isOwner(range, account) && ownerName(range.owner) !== account.name);
  const overlaps = mine.flatMap((a) =>
    others
      .filter((b) => a.start < b.start + b.count && b.start < a.start + a.count)
      .map((b) => `${account.name}'s ${a.start}+${a.count} (line ${a.line}) overlaps ${ownerName(b.owner)}'s ${b.start}+${b.count} (line ${b.line})`),
  );
  const freeStart = Math.max(100000, ...ranges.map((range) => range.start + range.count));
  return { file, mine, total: mine.reduce((sum, range) => sum + range.count, 0), overlaps, freeStart };
}

interface Addition {
  file: FileReport['file'];
  flag: '--add-subuids' | '--add-subgids';
  start: number;
  range: string;
}

function addition({ file, freeStart }: FileReport): Addition {
  return {
    file,
    flag: file === '/etc/subuid' ? '--add-subuids' : '--add-subgids',
    start: freeStart,
    range: `${freeStart}-${freeStart + NODE_IDS - 1}`,
  };
}

function addRangesFix(account: Account, additions: Addition[]): Fix {
  const lines = additions.flatMap(({ file, flag, start, range }) => [
    `# Give ${account.name} ${NODE_IDS} subordinate ids in ${file}, above every range already there.`,
    `grep -qxF ${shellQuote(`${account.name}:${start}:${NODE_IDS}`)} "$ROOT${file}" 2>/dev/null || usermod \${ROOT:+--prefix "$ROOT"} ${flag} ${range} -- ${shellQuote(account.name)}`,
  ]);
  return {
    key: 'subid.range',
    forUser: true,
    lines,
    after: `if ${account.name} already ran a rootless engine: podman system migrate (or restart rootless Docker) as ${account.name}`,
  };
}
