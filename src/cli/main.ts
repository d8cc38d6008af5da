// `comi <command>`: one entry for every user-facing job.
import { runMain, UsageError } from './errors.js';
import { infoCommand } from './info.js';
import { synthCommand } from './synth.js';

type Command = { run: (argv: string[]) => Promise<void>; help: string };

const COMMANDS: Record<string, Command> = {
  info: { run: infoCommand, help: 'show the WebGPU adapter and its limits' },
  synth: { run: synthCommand, help: 'write a synthetic defocus training set (paired or z-stack)' },
};

const usage = () =>
  'usage: comi <command> [options]\n\ncommands:\n' +
  Object.entries(COMMANDS)
    .map(([name, c]) => `  ${name.padEnd(10)} ${c.help}`)
    .join('\n') +
  '\n';

const [name, ...rest] = process.argv.slice(2);
if (!name || name === '--help' || name === '-h' || name === 'help') {
  process.stdout.write(usage());
} else {
  await runMain(`comi ${name}`, async () => {
    const cmd = COMMANDS[name];
    if (!cmd) throw new UsageError(`unknown command '${name}'; commands: ${Object.keys(COMMANDS).join(', ')}`);
    await cmd.run(rest);
  });
}
// Dawn keeps the process alive while its instance exists; exit explicitly once the command is done.
process.exit(process.exitCode ?? 0);
