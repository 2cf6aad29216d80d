/**
 * `rootlet completion bash|zsh|fish`: a completion script made from commander's command tree at run time, so it lists
 * exactly the commands, options and choices the CLI has. Cluster names come from `rootlet __complete-names`, which
 * reads only this host's files (the kubeconfig and the member lists), never an engine, so a TAB stays fast.
 */
import path from 'node:path';
import { Help, type Argument, type Command, type Option } from 'commander';
import { ExitCode, UsageError } from '../errors.js';
import { kubeconfigTarget } from '../cluster/kubeconfig-store.js';
import { clustersWithMembers } from '../cluster/members.js';
import { ClusterName } from '../config/cluster-file.js';
import { readTextIfExists, type Host } from '../host/host.js';
import { LocalHost } from '../host/local-host.js';
import { KUBECONFIG_ENTRY_PREFIX, parseKubeconfig } from '../kube/kubeconfig.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/** The hidden command the scripts call for cluster names. */
export const CLUSTER_NAMES_COMMAND = '__complete-names';

/** What a word completes to. */
export type Values =
  | { kind: 'none' }
  | { kind: 'free' }
  | { kind: 'file' }
  | { kind: 'directory' }
  | { kind: 'cluster' }
  | { kind: 'host' }
  | { kind: 'command' }
  | { kind: 'choices'; choices: readonly string[] };

export interface OptionSpec {
  short: string | undefined;
  long: string | undefined;
  description: string;
  /** Its value: `none` for a flag. */
  values: Values;
  /** What its value is called in the help: `file` for `--identity <file>`. */
  valueName: string;
  /** Its value may only be attached (`--opt=value`): commander's `[value]`. */
  optionalValue: boolean;
  repeatable: boolean;
}

export interface ArgumentSpec {
  name: string;
  description: string;
  values: Values;
  required: boolean;
  variadic: boolean;
}

export interface CommandSpec {
  name: string;
  description: string;
  /** Its own options and those of the program, which commander accepts after the command too. */
  options: OptionSpec[];
  arguments: ArgumentSpec[];
}

export interface CompletionTree {
  program: string;
  options: OptionSpec[];
  commands: CommandSpec[];
}

/** The visible commands and options of `root`, as commander's help shows them. */
export function completionTree(root: Command): CompletionTree {
  const help = new Help();
  help.showGlobalOptions = true;
  const commands = help.visibleCommands(root).map((command) => {
    // A subcommand's own -h, --help hides the program's.
    const own = new Set(help.visibleOptions(command).flatMap((option) => flags(option)));
    const globals = help.visibleGlobalOptions(command).filter((option) => !flags(option).some((flag) => own.has(flag)));
    return {
      name: command.name(),
      description: command.description(),
      options: [...help.visibleOptions(command), ...globals].map(optionSpec),
      // commander's own `help [command]` names a command.
      arguments: command.registeredArguments.map((argument) => argumentSpec(argument, command.name() === 'help')),
    };
  });
  return { program: root.name(), options: help.visibleOptions(root).map(optionSpec), commands };
}

function optionSpec(option: Option): OptionSpec {
  return {
    short: option.short,
    long: option.long,
    description: option.description,
    values: option.isBoolean() || option.negate ? { kind: 'none' } : optionValues(option),
    valueName: placeholder(option) ?? 'value',
    optionalValue: option.optional,
    // The repeatable options collect into an array that starts empty.
    repeatable: option.variadic || Array.isArray(option.defaultValue),
  };
}

function optionValues(option: Option): Values {
  if (option.argChoices) return { kind: 'choices', choices: option.argChoices };
  // `--name` names a cluster wherever it appears (doctor's `--user <name>` does not).
  if (option.long === '--name') return { kind: 'cluster' };
  return pathValues(placeholder(option));
}

/** Files for `<file>` and `<path>`, directories for `<dir>`: what the help already calls them. */
function pathValues(name: string | undefined): Values {
  if (name === 'file' || name === 'files' || name === 'path') return { kind: 'file' };
  if (name === 'dir' || name === 'directory') return { kind: 'directory' };
  return { kind: 'free' };
}

/** `file` of `--identity <file>`, `ip|auto` of `--advertise-address <ip|auto>`. */
function placeholder(option: Option): string | undefined {
  return /[<[]([^>\]]*?)(?:\.\.\.)?[>\]]/.exec(option.flags)?.[1];
}

function argumentSpec(argument: Argument, namesCommand: boolean): ArgumentSpec {
  const name = argument.name();
  const values: Values = argument.argChoices
    ? { kind: 'choices', choices: argument.argChoices }
    : namesCommand
      ? { kind: 'command' }
      : name === 'hosts'
        ? { kind: 'host' }
        : pathValues(name);
  return { name, description: argument.description, values, required: argument.required, variadic: argument.variadic };
}

/** A description short enough for a menu: up to its first parenthesis or semicolon. */
function brief(description: string): string {
  return description.split(/ \(|; /)[0]!.trim();
}

function flags(option: { short?: string | undefined; long?: string | undefined }): string[] {
  return [option.short, option.long].filter((flag): flag is string => flag !== undefined);
}

const takesValue = (option: OptionSpec) => option.values.kind !== 'none';

// ---- bash ----------------------------------------------------------------------------------------------------------

/** bash: single-quoted. */
function bashQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** The line of `case $value_kind` data for an option's or argument's values. */
function bashValues(values: Values): string {
  return values.kind === 'choices' ? `choices:${values.choices.join(' ')}` : values.kind;
}

function bashCommandCase(name: string, options: OptionSpec[], args: ArgumentSpec[], commandNames: string): string {
  const valued = options.filter(takesValue);
  const byValues = new Map<string, string[]>();
  for (const option of valued) {
    const key = bashValues(option.values);
    byValues.set(key, [...(byValues.get(key) ?? []), ...flags(option)]);
  }
  const prevCases = [...byValues].map(([values, names]) => `        ${names.join('|')}) values=${bashQuote(values)} ;;`);
  const argValues = args.map((argument) =>
    bashQuote(`${argument.values.kind === 'command' ? `choices:${commandNames}` : bashValues(argument.values)}${argument.variadic ? '...' : ''}`),
  );
  return [
    `    ${name === '' ? "''" : bashQuote(name)})`,
    `      options=${bashQuote(options.flatMap(flags).join(' '))}`,
    `      valued=${bashQuote(` ${valued.flatMap(flags).join(' ')} `)}`,
    `      arguments=(${argValues.join(' ')})`,
    ...(prevCases.length > 0 ? ['      case $prev in', ...prevCases, '      esac'] : []),
    '      ;;',
  ].join('\n');
}

export function bashScript(tree: CompletionTree): string {
  const program = tree.program;
  const fn = `_${program.replace(/\W/g, '_')}`;
  const commandNames = tree.commands.map((command) => command.name).join(' ');
  const rootValued = tree.options.filter(takesValue).flatMap(flags);
  const rootArgument: ArgumentSpec = { name: 'command', description: '', values: { kind: 'command' }, required: false, variadic: false };
  return `# bash completion for ${program}, made by \`${program} completion bash\` from its commands and options.
${fn}() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev='' command='' start=1 i
  (( COMP_CWORD > 0 )) && prev=\${COMP_WORDS[COMP_CWORD-1]}
  # bash splits --option=value at '=' (COMP_WORDBREAKS).
  if [[ $cur == = ]]; then
    cur=''
  elif [[ $prev == = ]] && (( COMP_CWORD > 1 )); then
    prev=\${COMP_WORDS[COMP_CWORD-2]}
  fi
  # The command: the first word that is neither an option nor an option's value.
  for ((i = 1; i < COMP_CWORD; i++)); do
    case \${COMP_WORDS[i]} in
      ${rootValued.length > 0 ? `${rootValued.join('|')}) ((i++)) ;;\n      ` : ''}=) ((i++)) ;;
      -*) ;;
      *) command=\${COMP_WORDS[i]} start=$((i + 1)); break ;;
    esac
  done
  local options='' valued=' ' values='' arguments=()
  case $command in
${bashCommandCase('', tree.options, [rootArgument], commandNames)}
${tree.commands.map((command) => bashCommandCase(command.name, command.options, command.arguments, commandNames)).join('\n')}
    *) return ;;
  esac
  # Not after an option that takes a value: an option, or the next argument.
  if [[ -z $values ]]; then
    local count=0
    for ((i = start; i < COMP_CWORD; i++)); do
      case \${COMP_WORDS[i]} in
        =) ((i++)) ;;
        -*) [[ $valued == *" \${COMP_WORDS[i]} "* && \${COMP_WORDS[i+1]} != = ]] && ((i++)) ;;
        *) ((count++)) ;;
      esac
    done
    if [[ $cur != -* ]] && (( \${#arguments[@]} > 0 )); then
      if (( count < \${#arguments[@]} )); then
        values=\${arguments[count]}
      elif [[ \${arguments[-1]} == *... ]]; then
        values=\${arguments[-1]}
      fi
      values=\${values%...}
    fi
    [[ -z $values || $values == free ]] && values=options
  fi
  COMPREPLY=()
  case $values in
    options) mapfile -t COMPREPLY < <(compgen -W "$options" -- "$cur") ;;
    choices:*) mapfile -t COMPREPLY < <(compgen -W "\${values#choices:}" -- "$cur") ;;
    file) compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
    directory) compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -d -- "$cur") ;;
    cluster) mapfile -t COMPREPLY < <(compgen -W "$(${program} ${CLUSTER_NAMES_COMMAND} 2>/dev/null)" -- "$cur") ;;
    host) mapfile -t COMPREPLY < <(compgen -A hostname -- "$cur") ;;
  esac
}
complete -F ${fn} ${program}
`;
}

// ---- zsh -----------------------------------------------------------------------------------------------------------

/** zsh: single-quoted (the whole _arguments spec is one word). */
function zshQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** Text inside an _arguments `[description]` or `:message:`. */
function zshEscape(text: string): string {
  return text.replace(/[\\[\]:]/g, (c) => `\\${c}`);
}

function zshAction(values: Values, fn: string): string {
  switch (values.kind) {
    case 'choices':
      return `(${values.choices.join(' ')})`;
    case 'file':
      return '_files';
    case 'directory':
      return '_files -/';
    case 'cluster':
      return `${fn}_clusters`;
    case 'host':
      return '_hosts';
    case 'command':
      return `${fn}_commands`;
    case 'free':
    case 'none':
      return ' ';
  }
}

function zshOption(option: OptionSpec, fn: string): string {
  const names = flags(option);
  const suffix = (flag: string) => (!takesValue(option) ? '' : flag.startsWith('--') ? (option.optionalValue ? '=-' : '=') : '+');
  const forms = names.map((flag) => `${flag}${suffix(flag)}`);
  const description = `[${zshEscape(brief(option.description))}]`;
  const value = takesValue(option) ? `:${zshEscape(option.valueName)}:${zshAction(option.values, fn)}` : '';
  const repeat = option.repeatable ? '*' : '';
  // -f and --file exclude each other; --help and --version everything else.
  const exclusive = option.long === '--help' || option.long === '--version' ? '- *' : option.repeatable || names.length < 2 ? '' : names.join(' ');
  const prefix = `${exclusive ? `(${exclusive})` : ''}${repeat}`;
  const flagWords = forms.length > 1 ? `{${forms.join(',')}}` : forms[0]!;
  return `${prefix ? zshQuote(prefix) : ''}${flagWords}${zshQuote(`${description}${value}`)}`;
}

function zshArgument(argument: ArgumentSpec, index: number, fn: string): string {
  const position = argument.variadic ? '*' : `${index + 1}${argument.required ? '' : ':'}`;
  return zshQuote(`${position}:${zshEscape(argument.name)}:${zshAction(argument.values, fn)}`);
}

function zshArguments(options: OptionSpec[], args: ArgumentSpec[], fn: string, indent: string): string {
  const specs = [...options.map((option) => zshOption(option, fn)), ...args.map((argument, index) => zshArgument(argument, index, fn))];
  return specs.map((spec) => `${indent}${spec}`).join(' \\\n');
}

export function zshScript(tree: CompletionTree): string {
  const program = tree.program;
  const fn = `_${program.replace(/\W/g, '_')}`;
  const commandEntries = tree.commands.map((command) => `    ${zshQuote(`${command.name.replaceAll(':', '\\:')}:${brief(command.description)}`)}`);
  const cases = tree.commands.map(
    (command) => `    (${command.name})
      _arguments -S \\
${zshArguments(command.options, command.arguments, fn, '        ')} && ret=0
      ;;`,
  );
  return `#compdef ${program}
# zsh completion for ${program}, made by \`${program} completion zsh\` from its commands and options.

${fn}_commands() {
  local -a commands=(
${commandEntries.join('\n')}
  )
  _describe -t commands '${program} command' commands
}

${fn}_clusters() {
  local -a clusters=(\${(f)"$(_call_program clusters ${program} ${CLUSTER_NAMES_COMMAND} 2>/dev/null)"})
  _wanted clusters expl cluster compadd -a clusters
}

${fn}() {
  local curcontext=$curcontext state state_descr line ret=1
  local -A opt_args
  _arguments -C \\
${zshArguments(tree.options, [], fn, '    ')} \\
    '1:command:${fn}_commands' \\
    '*:: :->command' && ret=0
  [[ $state == command ]] || return ret
  curcontext=\${curcontext%:*:*}:${program}-$words[1]:
  case $words[1] in
${cases.join('\n')}
  esac
  return ret
}

# Autoloaded from $fpath as ${fn}, or sourced: source <(${program} completion zsh).
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
  ${fn} "$@"
else
  compdef ${fn} ${program}
fi
`;
}

// ---- fish ----------------------------------------------------------------------------------------------------------

/** fish: single-quoted. */
function fishQuote(text: string): string {
  return `'${text.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}

function fishValues(values: Values, fn: string, commandNames: string): string {
  switch (values.kind) {
    case 'choices':
      return `-x -a ${fishQuote(values.choices.join(' '))}`;
    case 'file':
      return '-r -F';
    case 'directory':
      return "-x -a '(__fish_complete_directories (commandline -ct))'";
    case 'cluster':
      return `-x -a '(${fn}_clusters)'`;
    case 'host':
      return "-a '(__fish_print_hostnames)'";
    case 'command':
      return `-a ${fishQuote(commandNames)}`;
    case 'free':
      return '-x';
    case 'none':
      return '';
  }
}

function fishOption(program: string, condition: string, option: OptionSpec, fn: string): string {
  const names = [...(option.short ? [`-s ${option.short.slice(1)}`] : []), ...(option.long ? [`-l ${option.long.slice(2)}`] : [])];
  const parts = [`complete -c ${program}`, condition, ...names, fishValues(option.values, fn, ''), `-d ${fishQuote(brief(option.description))}`];
  return parts.filter((part) => part !== '').join(' ');
}

export function fishScript(tree: CompletionTree): string {
  const program = tree.program;
  const fn = `__${program.replace(/\W/g, '_')}`;
  const commandNames = tree.commands.map((command) => command.name).join(' ');
  const global = new Set(tree.options.flatMap(flags));
  const rootValued = tree.options.filter(takesValue).flatMap(flags);
  const lines = [
    `# fish completion for ${program}, made by \`${program} completion fish\` from its commands and options.`,
    '',
    "# The command: the first word that is neither an option nor an option's value.",
    `function ${fn}_command`,
    '    set -l words (commandline -opc)',
    '    set -l skip 0',
    '    for word in $words[2..-1]',
    '        if test $skip = 1',
    '            set skip 0',
    '            continue',
    '        end',
    '        switch $word',
    ...(rootValued.length > 0 ? [`            case ${rootValued.join(' ')}`, '                set skip 1'] : []),
    "            case '-*'",
    "            case '*'",
    '                echo $word',
    '                return 0',
    '        end',
    '    end',
    '    return 1',
    'end',
    '',
    `function ${fn}_using`,
    `    set -l command (${fn}_command)`,
    '    and test "$command" = $argv[1]',
    'end',
    '',
    `function ${fn}_clusters`,
    `    ${program} ${CLUSTER_NAMES_COMMAND} 2>/dev/null`,
    'end',
    '',
    `complete -c ${program} -f`,
    ...tree.options.map((option) => fishOption(program, '', option, fn)),
    ...tree.commands.map(
      (command) => `complete -c ${program} -n 'not ${fn}_command >/dev/null' -a ${fishQuote(command.name)} -d ${fishQuote(brief(command.description))}`,
    ),
  ];
  for (const command of tree.commands) {
    const condition = `-n ${fishQuote(`${fn}_using ${command.name}`)}`;
    lines.push(
      '',
      ...command.options.filter((option) => !flags(option).some((flag) => global.has(flag))).map((option) => fishOption(program, condition, option, fn)),
    );
    for (const argument of command.arguments) {
      const values = fishValues(argument.values, fn, commandNames);
      if (values !== '-x') lines.push(`complete -c ${program} ${condition} ${values} -d ${fishQuote(brief(argument.description || argument.name))}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

// ---- commands ------------------------------------------------------------------------------------------------------

const scripts: Record<Shell, (tree: CompletionTree) => string> = { bash: bashScript, zsh: zshScript, fish: fishScript };

/** `rootlet completion SHELL`: the script, on stdout. `root` is the program, walked as it is now. */
export function completionCommand(shell: string, root: Command): Promise<number> {
  if (!(SHELLS as readonly string[]).includes(shell)) throw new UsageError(`no completion for the shell ${shell}: use one of ${SHELLS.join(', ')}`);
  process.stdout.write(scripts[shell as Shell](completionTree(root)));
  return Promise.resolve(ExitCode.ok);
}

/**
 * The clusters this host's files name: the `rootlet-<name>` contexts of the kubeconfig `up` merges into (`down` removes
 * them), and the clusters with a member list. No engine is asked, so a cluster created elsewhere or with --retain after
 * a failure can be missing; the scripts only offer these names, they accept any.
 */
export async function knownClusterNames(host: Host, env: Record<string, string | undefined>): Promise<string[]> {
  const [contexts, members] = await Promise.all([kubeconfigClusters(host, env).catch(() => []), clustersWithMembers(host, env).catch(() => [])]);
  return [...new Set([...contexts, ...members])].filter((name) => ClusterName.safeParse(name).success).sort();
}

async function kubeconfigClusters(host: Host, env: Record<string, string | undefined>): Promise<string[]> {
  const file = await kubeconfigTarget(host, env, { cwd: env.PWD ?? process.cwd() });
  const text = await readTextIfExists(host, file);
  if (text === undefined) return [];
  return parseKubeconfig(text, path.basename(file))
    .contexts.map((context) => context.name)
    .filter((name) => name.startsWith(KUBECONFIG_ENTRY_PREFIX))
    .map((name) => name.slice(KUBECONFIG_ENTRY_PREFIX.length));
}

/** `rootlet __complete-names`: one cluster name a line, for the completion scripts; never fails. */
export async function clusterNamesCommand(): Promise<number> {
  const names = await knownClusterNames(new LocalHost(), process.env).catch(() => []);
  process.stdout.write(names.map((name) => `${name}\n`).join(''));
  return ExitCode.ok;
}
