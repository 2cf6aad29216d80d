import type { Check } from '../finding.js';
import { cgroupDelegation } from './cgroup-delegation.js';
import { cgroupV2 } from './cgroup-v2.js';
import { devFuse } from './dev-fuse.js';
import { devTun } from './dev-tun.js';
import { engineNetwork, engineReachable, engineRootless, engineVersion } from './engine.js';
import { kernelModules } from './kernel-modules.js';
import { kernelVersion } from './kernel-version.js';
import { limitsNofile } from './limits-nofile.js';
import { portsFree } from './ports-free.js';
import { resources } from './resources.js';
import { subidRange } from './subid-range.js';
import { subidTools } from './subid-tools.js';
import { sysctlInotify } from './sysctl-inotify.js';
import { sysctlNetwork } from './sysctl-network.js';
import { sysctlUserns } from './sysctl-userns.js';
import { systemdLinger } from './systemd-linger.js';
import { userNonroot } from './user-nonroot.js';
import { usernsPods } from './userns-pods.js';

/** Every host check, in the order they are reported within a status. */
export const HOST_CHECKS: readonly Check[] = [
  userNonroot,
  kernelVersion,
  cgroupV2,
  cgroupDelegation,
  kernelModules,
  sysctlUserns,
  sysctlNetwork,
  sysctlInotify,
  subidRange,
  subidTools,
  limitsNofile,
  systemdLinger,
  devTun,
  devFuse,
  resources,
  usernsPods,
  engineReachable,
  engineRootless,
  engineVersion,
  engineNetwork,
  portsFree,
];
