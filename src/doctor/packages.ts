import type { OsRelease } from './facts.js';

export type PackageManager = 'apt' | 'dnf' | 'zypper' | 'pacman' | 'apk';

/** The package manager of a distribution, from os-release ID and ID_LIKE. */
export function packageManagerOf(os: OsRelease): PackageManager | undefined {
  const family = [os.id, ...os.idLike];
  if (family.some((id) => ['debian', 'ubuntu'].includes(id))) return 'apt';
  if (family.some((id) => ['fedora', 'rhel', 'centos'].includes(id))) return 'dnf';
  if (family.some((id) => id.startsWith('suse') || id.startsWith('opensuse'))) return 'zypper';
  if (family.some((id) => id === 'arch')) return 'pacman';
  if (family.includes('alpine')) return 'apk';
  return undefined;
}

/** The install command for a package on this distribution, given the package's name per package manager. */
export function installCommand(manager: PackageManager | undefined, names: Partial<Record<PackageManager, string>>): string[] | undefined {
  if (!manager || !names[manager]) return undefined;
  const name = names[manager];
  switch (manager) {
    case 'apt':
      return ['apt-get', 'install', '-y', name];
    case 'dnf':
      return ['dnf', 'install', '-y', name];
    case 'zypper':
      return ['zypper', '--non-interactive', 'install', name];
    case 'pacman':
      return ['pacman', '-S', '--noconfirm', name];
    case 'apk':
      return ['apk', 'add', name];
  }
}
