import { kernelAtLeast } from '../kernel-release.js';
import type { Check, Finding } from '../finding.js';
import { IDS_PER_POD, KUBELET_MAX_PODS } from '../../kube/user-namespaces.js';
import { podRanges } from './subid-range.js';

export const usernsPods: Check = {
  id: 'userns.pods',
  async run({ facts, user }) {
    const release = await facts.kernelRelease();
    const account = await facts.account(user);
    const totals = await Promise.all(
      (['/etc/subuid', '/etc/subgid'] as const).map(async (file) => (await facts.subIdsOf(account, file)).reduce((sum, range) => sum + range.count, 0)),
    );
    const ranges = podRanges(Math.min(...totals));
    const kernel = kernelAtLeast(release, 6, 3)
      ? `kernel ${release} has idmap mounts on overlayfs and tmpfs: every volume type works`
      : kernelAtLeast(release, 5, 19)
        ? `kernel ${release} has idmap mounts on overlayfs but not tmpfs (6.3): secret, configMap, projected and memory emptyDir volumes will fail`
        : `kernel ${release} has no idmap mounts on overlayfs (5.19): containerd must copy and chown every image (slow_chown)`;
    const ids = `the node's user namespace leaves room for ${ranges} of the ${KUBELET_MAX_PODS} pod ranges of ${IDS_PER_POD} ids the kubelet allocates`;
    const enough = ranges >= KUBELET_MAX_PODS;
    const status: Finding['status'] = enough && kernelAtLeast(release, 6, 3) ? 'pass' : 'warn';
    const wanted = IDS_PER_POD * (KUBELET_MAX_PODS + 1);
    return {
      status,
      summary: `pods with hostUsers: false: ${kernel}; ${ids}`,
      remedy: enough
        ? status === 'pass'
          ? ''
          : 'upgrade to kernel 6.3 or newer for idmap mounts on tmpfs'
        : `only needed for hostUsers: false pods: as root, give ${user} ${wanted} sub-ids (usermod --add-subuids FIRST-LAST --add-subgids FIRST-LAST ${user} with an unused range of that size); ordinary pods work without`,
    };
  },
};
