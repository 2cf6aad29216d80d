import type { PackageManager } from './facts.js';

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
