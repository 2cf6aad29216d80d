import module from 'node:module';
import { Argument, Command, CommanderError, Option } from 'commander';
import { ExitCode, RootletError } from '../errors.js';
import { versionText } from '../pins.js';

(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();

declare const ROOTLET_VERSION: string;
const VERSION = typeof ROOTLET_VERSION === 'string' ? ROOTLET_VERSION : '0.0.0-dev';

interface GlobalOptions {
  verbose?: boolean;
  json?: boolean;
}

function program(run: (action: () => Promise<number>) => Promise<void>): Command {
  const root = new Command('rootlet')
    .description('Kubernetes on ordinary Linux hosts, every node a rootless Podman or Docker container.')
    .version(versionText(VERSION), '-V, --version', 'print the version, and the pinned Kubernetes and CNI versions')
    .option('--verbose', 'show every command run inside the nodes (secrets redacted), and stack traces')
    .option('-q, --quiet', 'no progress on stderr: only the result and errors')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });

  root
    .command('doctor')
    .argument('[hosts...]', 'other hosts to check over SSH, as [user@]host[:port] (default: this host)')
    .description('check that this host can run rootless Kubernetes nodes, and say how to fix what is missing')
    .option('--json', 'print one JSON document on stdout')
    .option('--sysroot <dir>', 'read /proc, /sys, /etc, /lib/modules and /dev under DIR instead of /')
    .option('--user <name>', 'check for this account (default: the current user)')
    .option('--no-engine', 'skip checks that need a live engine or run commands')
    .option('--fix-script', 'print a shell script for root that fixes what root can fix')
    .addOption(new Option('--cni <name>', 'the CNI the cluster will use (antrea needs openvswitch)').choices(['flannel', 'antrea', 'none']))
    .addOption(new Option('--engine <kind>', 'only this engine').choices(['podman', 'docker']))
    .option('--engine-socket <path>', "the engine's API socket (default: CONTAINER_HOST, DOCKER_HOST, then the user's Podman and Docker sockets)")
    .option('--allow-rootful', 'accept an engine running as root (it gives the cluster root on this host)')
    .option(
      '--identity <file>',
      'SSH private key for the hosts (repeatable; default: ssh-agent, then ~/.ssh/id_*)',
      (file: string, all: string[]) => [...all, file],
      [],
    )
    .option('--accept-new-host-keys', "trust and record a host's SSH key that ~/.ssh/known_hosts does not have yet (a changed key is always refused)")
    .addHelpText(
      'after',
      `
Examples:
  rootlet doctor                          what is missing on this host, and how to fix it
  rootlet doctor alice@node2 bob@node3    the same checks on other hosts, over SSH
  rootlet doctor --json | jq '.hosts[0].checks[] | select(.status=="fail")'
  rootlet doctor --fix-script > fix.sh    review it, then: sudo sh fix.sh
  rootlet doctor --sysroot /mnt/image --user alice --no-engine

Exit status: 0 nothing failed, 2 usage error, 3 a check failed, 5 a host could not be reached over SSH.`,
    )
    .action((hosts: string[], options: Record<string, unknown>, command: Command) =>
      run(async () => {
        const { doctorCommand } = await import('./doctor.js');
        // commander's --engine and --no-engine share one key; rename the choice of engine.
        const { engine, ...rest } = options;
        const flags = { ...rest, engine: options.engine !== false, ...(typeof engine === 'string' ? { engineKind: engine } : {}) };
        return doctorCommand(flags, { verbose: command.optsWithGlobals<GlobalOptions>().verbose === true, hosts });
      }),
    );

  const engineFlags = (command: Command) =>
    command
      .addOption(new Option('--engine <kind>', 'only this engine').choices(['podman', 'docker']))
      .option('--engine-socket <path>', "the engine's API socket (default: CONTAINER_HOST, DOCKER_HOST, then the user's Podman and Docker sockets)")
      .option('--allow-rootful', 'accept an engine running as root (it gives the cluster root on this host)');

  engineFlags(
    root
      .command('up')
      .description('create a rootless Kubernetes cluster on this host, or complete an existing one')
      .option('-f, --file <path>', 'cluster file (YAML, apiVersion rootlet.dev/v1alpha1), - for stdin (default: ./rootlet.yaml if any); flags override it')
      .option('--name <name>', 'cluster name (default: rootlet)')
      .option('--workers <n>', 'local worker nodes (default: 0)')
      .addOption(new Option('--cni <name>', 'pod network (default: flannel)').choices(['flannel', 'antrea', 'none']))
      .option('--cni-manifest <file>', 'apply this CNI manifest instead of downloading or rendering one (air-gapped hosts)')
      .option('--image <ref>', "node image (default: rootlet's own, built from kindest/node)")
      .option('--wait <duration>', 'how long to wait for every node and the system pods to be Ready, e.g. 90s, 5m (default: 5m)')
      .option('--api-server-port <port>', 'host port of the API server (default: 6443 or the next free one)')
      .option('--api-server-address <ip>', 'host address the API server is published on and named in its certificate (default: 127.0.0.1)')
      .option(
        '--advertise-address <ip|auto>',
        "this host's address for nodes on other hosts (rootlet join): API server, kubelet and VXLAN ports are published there; auto: the default route's",
      )
      .option('--identity <file>', "SSH private key for the cluster file's hosts (repeatable)", (file: string, all: string[]) => [...all, file], [])
      .option('--ssh-config <file>', 'read Host aliases from this file instead of ~/.ssh/config')
      .option('--accept-new-host-keys', "trust and record an SSH host key of the cluster file's hosts that known_hosts lacks")
      .option(
        '--ignore-check <id>',
        "a doctor check whose failure does not stop one of the file's hosts (repeatable)",
        (id: string, all: string[]) => [...all, id],
        [],
      )
      .option('--no-switch', 'do not make the cluster the current kubeconfig context')
      .option('--skip-doctor', 'do not check the host first (cgroups, sub-ids, sysctls, devices, ports)')
      .option('--retain', 'keep what was created when something fails, to look inside')
      .option('--print-config', 'print the cluster file that defaults, -f FILE and the flags make together, and do nothing else')
      .option('-y, --yes', 'do not ask: use the defaults, the file and the flags (questions come only on a terminal, with no file and no flags)')
      .option('--json', 'print one JSON document on stdout (progress stays on stderr)'),
  )
    .addHelpText(
      'after',
      `
Examples:
  rootlet up                              on a terminal: a few questions (workers, CNI, other hosts), saved as rootlet.yaml
  rootlet up --yes                        no questions: one control-plane node, flannel, kubeconfig context rootlet-rootlet
  rootlet up --name dev --workers 2       a control plane and two workers
  rootlet up -f cluster.yaml --wait 10m
  rootlet up --json --wait 5m > up.json   for CI: exit 1 with what is not ready when the wait times out
  rootlet up --name lab --advertise-address auto    reachable from other hosts; then: rootlet join --name lab alice@node2
  rootlet up -f lab.yaml                  with hosts: in the file, the control plane here and every host joined

Exit status: 0 ready, 1 failed (everything created is removed unless --retain), 2 usage, 3 host not ready, 4 engine,
5 SSH (a host of the cluster file), 130 interrupted. With hosts, the join's exit status (see rootlet join --help).`,
    )
    .action((options: Record<string, unknown>, command: Command) =>
      run(async () => {
        const { upCommand } = await import('./up.js');
        // What the user wrote, as opposed to commander's defaults (--identity's [], --no-switch's true).
        // The program-wide --verbose and --quiet count too: they are answers about how to run.
        const given = [command, command.parent!].flatMap((each) =>
          Object.keys(each.opts()).filter((key) => !['default', undefined].includes(each.getOptionValueSource(key))),
        );
        return upCommand(command.optsWithGlobals(), { given });
      }),
    );

  const collect = (value: string, all: string[]) => [...all, value];
  root
    .command('schema')
    .description('print the JSON Schema of the cluster file (for editors: yaml-language-server, VS Code)')
    .addHelpText('after', '\nExample:\n  rootlet schema > rootlet.schema.json   then in rootlet.yaml: # yaml-language-server: $schema=rootlet.schema.json')
    .action(() =>
      run(async () => {
        const { schemaCommand } = await import('./schema.js');
        return schemaCommand();
      }),
    );

  engineFlags(
    root
      .command('join')
      .argument('[hosts...]', 'hosts to join as workers: [user@]host[:port] or a Host alias of ~/.ssh/config (default: the cluster file’s hosts)')
      .description('join other hosts to the cluster over SSH: check them, create a node in each user’s rootless engine, kubeadm join')
      .option(
        '-f, --file <path>',
        'cluster file: its name and hosts (each with its address, user, port, identity); - for stdin (default: ./rootlet.yaml if any)',
      )
      .option('--name <name>', 'cluster name (default: rootlet, or the cluster file’s)')
      .option('--identity <file>', 'SSH private key (repeatable; default: ssh-agent, ~/.ssh/config, then ~/.ssh/id_*)', collect, [])
      .option('--ssh-config <file>', 'read Host aliases from this file instead of ~/.ssh/config')
      .option('--accept-new-host-keys', "trust and record a host's SSH key that ~/.ssh/known_hosts does not have yet (a changed key is always refused)")
      .option('--skip-doctor', 'do not check the hosts first')
      .option('--ignore-check <id>', 'a doctor check whose failure does not stop a host, e.g. cgroup.v2 (repeatable)', collect, [])
      .option('--wait <duration>', 'how long to wait for each new node to be Ready (default: 5m, 0: do not wait)')
      .option('--retain', 'keep what a failed host got (its node container), to look inside')
      .option('--json', 'print one JSON document on stdout (progress stays on stderr)'),
  )
    .addHelpText(
      'after',
      `
The cluster must have been created for several hosts: rootlet up --advertise-address ADDR (or auto), or a cluster
file with networking.advertiseAddress or hosts. The other hosts need only sshd and the user's rootless Podman or
Docker; the node image is copied over from this host's engine when they lack it.

Examples:
  rootlet up --name lab --advertise-address auto
  rootlet join --name lab alice@node2 bob@node3:2222
  rootlet join -f lab.yaml                    the hosts listed in the file
  rootlet join --name lab gpu-box --json      gpu-box: a Host alias of ~/.ssh/config

Exit status: 0 every host joined, 1 a host failed (the others stay joined; run it again to finish), 2 usage,
3 a host is not ready (doctor), 4 its engine, 5 SSH (unreachable, unknown or changed host key), 130 interrupted.`,
    )
    .action((hosts: string[], _options: Record<string, unknown>, command: Command) =>
      run(async () => {
        const { joinCommand } = await import('./join.js');
        return joinCommand(command.optsWithGlobals(), hosts);
      }),
    );

  engineFlags(
    root
      .command('load')
      .argument('[images...]', "images of this host's engine, as you would name them in a pod (app:1, registry.example/app:1)")
      .description("stream images from this host's engine into every node's containerd, local and joined hosts alike")
      .option('--name <name>', 'cluster name (default: rootlet)')
      .option(
        '--nodes <names>',
        'only these nodes (comma-separated, repeatable)',
        (value: string, all: string[]) => [...all, ...value.split(',').filter(Boolean)],
        [],
      )
      .option('--archive <file>', 'load the images of a saved archive (docker save / podman save) instead')
      .option('--json', 'print one JSON document on stdout (progress stays on stderr)'),
  )
    .addHelpText(
      'after',
      `
Nodes that have the image under that name already are skipped; one that has it under another name (Podman calls a
local build localhost/app:1, a pod asking for app:1 gets docker.io/library/app:1) is tagged. Nothing is written to a
file on the way: the archive streams from the engine through rootlet (and SSH) into each node's ctr.

Examples:
  rootlet load app:1                         into every node of cluster rootlet
  rootlet load --name lab app:1 tools:2      two images, every host of cluster lab
  rootlet load app:1 --nodes lab-node2       only that node
  rootlet load --archive app.tar             a file written by docker save or podman save

Exit status: 0 every node has every image, 1 a node failed (the others keep theirs; run it again), 2 usage,
4 engine, 5 SSH (a joined host), 130 interrupted.`,
    )
    .action((images: string[], _options: Record<string, unknown>, command: Command) =>
      run(async () => {
        const { loadCommand } = await import('./load.js');
        return loadCommand(command.optsWithGlobals(), images);
      }),
    );

  engineFlags(
    root
      .command('logs')
      .argument('[dir]', 'where to write them (default: ./rootlet-logs-<cluster>-<time>); must be new or empty')
      .description(
        "collect every node's logs (engine, journal, kubelet, containerd, crictl, /var/log) and the cluster's state, for a bug report or CI artifact",
      )
      .option('--name <name>', 'cluster name (default: rootlet)')
      .option('--archive', 'write one DIR.tar.gz instead of a directory')
      .option('--json', 'print one JSON document on stdout'),
  )
    .addHelpText(
      'after',
      `
Per node (joined hosts too, over SSH): inspect, console, journal, kubelet and containerd logs, crictl ps -a and
images, the kubeadm configuration rootlet gave it (token redacted), kubelet config, /var/log; for the cluster:
kubectl nodes, pods and events as JSON, rootlet's record and its own logs of failed runs, doctor's report, engine info, rootlet version. Files are 0600; bootstrap tokens are
redacted. What could not be read is listed in errors.txt.

Examples:
  rootlet logs                               into ./rootlet-logs-rootlet-<time>, printed on stdout
  rootlet logs --name lab /tmp/lab-logs
  rootlet logs --archive ci-logs             ci-logs.tar.gz, for a CI artifact

Exit status: 0 written (even when a piece could not be read), 1 failed, 2 usage (DIR not empty), 4 engine, 130 interrupted.`,
    )
    .action((dir: string | undefined, options: Record<string, unknown>) =>
      run(async () => {
        const { logsCommand } = await import('./logs.js');
        return logsCommand(options, dir);
      }),
    );

  engineFlags(
    root
      .command('down')
      .description("remove a cluster's nodes, volumes, network and kubeconfig entries (idempotent)")
      .option('--name <name>', 'cluster name (default: rootlet)')
      .option('--all', 'every rootlet cluster of this user')
      .option('--host <host>', 'only this joined host (user@host[:port] or its node name): drained, deleted from the cluster, its node removed')
      .option('--json', 'print one JSON document on stdout'),
  )
    .addHelpText(
      'after',
      `
Examples:
  rootlet down                            the cluster named rootlet
  rootlet down --name dev
  rootlet down --all --json               every rootlet cluster of this user, for CI
  rootlet down --name lab --host alice@node2    only that joined host: drained, deleted, its node removed`,
    )
    .action((options: Record<string, unknown>) =>
      run(async () => {
        const { downCommand } = await import('./down.js');
        return downCommand(options);
      }),
    );

  engineFlags(
    root
      .command('status')
      .description('clusters, nodes, roles, ports, readiness, Kubernetes version and CNI')
      .option('--name <name>', 'only this cluster')
      .option('--json', 'print one JSON document on stdout'),
  )
    .addHelpText(
      'after',
      `
Examples:
  rootlet status                          every cluster of this user
  rootlet status --name dev --json | jq '.clusters[0].nodes[] | {name, ready}'`,
    )
    .action((options: Record<string, unknown>) =>
      run(async () => {
        const { statusCommand } = await import('./status.js');
        return statusCommand(options);
      }),
    );

  engineFlags(root.command('ls').description('list the clusters, one line each').option('--json', 'print one JSON document on stdout'))
    .addHelpText(
      'after',
      `
Examples:
  rootlet ls                              name, ready or not-ready, nodes, API server: one cluster a line, tab-separated
  rootlet ls --engine docker --json`,
    )
    .action((options: Record<string, unknown>) =>
      run(async () => {
        const { statusCommand } = await import('./status.js');
        return statusCommand(options, { list: true });
      }),
    );

  engineFlags(
    root
      .command('kubeconfig')
      .description("print the cluster's kubeconfig, or merge it into $KUBECONFIG or ~/.kube/config")
      .option('--name <name>', 'cluster name (default: rootlet)')
      .option('--print', 'print it on stdout (the default)')
      .option('--merge', 'merge it into the first file of $KUBECONFIG, else ~/.kube/config (0600, under a lock)')
      .option('--no-switch', 'with --merge: do not make it the current context'),
  )
    .addHelpText(
      'after',
      `
Examples:
  rootlet kubeconfig --name dev > dev.kubeconfig    then: kubectl --kubeconfig dev.kubeconfig get nodes
  rootlet kubeconfig --name dev --merge             context rootlet-dev in $KUBECONFIG or ~/.kube/config, made current
  rootlet kubeconfig --name dev --merge --no-switch`,
    )
    .action((options: Record<string, unknown>) =>
      run(async () => {
        const { kubeconfigCommand } = await import('./kubeconfig.js');
        return kubeconfigCommand(options);
      }),
    );

  root
    .command('completion')
    .description('print a completion script for bash, zsh or fish: commands, options, their choices and cluster names')
    .addArgument(new Argument('<shell>', 'the shell to complete in').choices(['bash', 'zsh', 'fish']))
    .addHelpText(
      'after',
      `
Install it where the shell looks (then open a new shell):
  bash   ~/.local/share/bash-completion/completions/rootlet (read by the bash-completion package)
  zsh    _rootlet in a directory of $fpath, e.g. ~/.zfunc with fpath=(~/.zfunc $fpath) before compinit in ~/.zshrc
  fish   ~/.config/fish/completions/rootlet.fish

Examples:
  rootlet completion bash > ~/.local/share/bash-completion/completions/rootlet
  rootlet completion zsh > ~/.zfunc/_rootlet
  rootlet completion fish > ~/.config/fish/completions/rootlet.fish
  source <(rootlet completion bash)       this shell only (zsh too)

Cluster names after --name are the rootlet-* contexts of your kubeconfig and the clusters with joined hosts: a TAB
asks no engine.`,
    )
    .action((shell: string, _options: unknown, command: Command) =>
      run(async () => {
        const { completionCommand } = await import('./completion.js');
        return completionCommand(shell, command.parent!);
      }),
    );

  // What the completion scripts call for cluster names; not for people.
  root
    .command('__complete-names', { hidden: true })
    .description('print the names of the clusters this host knows of, one a line, without asking an engine')
    .action(() =>
      run(async () => {
        const { clusterNamesCommand } = await import('./completion.js');
        return clusterNamesCommand();
      }),
    );

  return root;
}

/** The one place errors are printed and the exit code is set. */
export async function main(argv: string[]): Promise<void> {
  const verbose = argv.includes('--verbose');
  const json = argv.includes('--json');
  const run = async (action: () => Promise<number>) => {
    process.exitCode = await action();
  };
  try {
    await program(run).parseAsync(argv);
  } catch (error) {
    process.exitCode = report(error, { verbose, json });
  }
}

function report(error: unknown, { verbose, json }: GlobalOptions): number {
  if (error instanceof CommanderError) {
    // Commander has already printed its one-line message (and nothing for --help / --version).
    return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  }
  const known = error instanceof RootletError ? error : undefined;
  const message = known?.message ?? `internal error: ${error instanceof Error ? error.message : String(error)}`;
  const hint = known ? known.hint : 'Run again with --verbose for the stack trace, and report it.';
  if (json) {
    process.stdout.write(`${JSON.stringify({ error: known?.toJSON() ?? { code: 'internal', message, exitCode: ExitCode.failure } }, null, 2)}\n`);
  }
  const details = known?.details.map((line) => `  ${line}\n`).join('') ?? '';
  process.stderr.write(`error: ${message}\n${details}${hint ? `hint: ${hint}\n` : ''}`);
  if (verbose && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  return known?.exitCode ?? ExitCode.failure;
}
