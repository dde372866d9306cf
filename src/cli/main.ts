// The `webgpu-rbm` command: dispatch to train | sample | eval | transform |
// classify | inpaint, turn known failures into one-line messages with an exit code (2
// usage, 1 runtime), and make sure the process ends: Dawn can keep the event
// loop alive after the device is gone, so we exit explicitly once the output
// is flushed.
import { version } from '../../package.json';
import { UsageError, CliError, messageOf } from './errors';
import { runClassify, CLASSIFY_HELP } from './classify';
import { runEval, EVAL_HELP } from './eval';
import { runInpaint, INPAINT_HELP } from './inpaint';
import { flushOutput, guardStdio, writeStderr, writeStdout } from './output';
import { runSample, SAMPLE_HELP } from './sample';
import { runSupervised, startLifeline, wantsSupervisor } from './supervise';
import { runTrain, TRAIN_HELP } from './train';
import { runTransform, TRANSFORM_HELP } from './transform';

interface Command {
  summary: string;
  help: string;
  run(args: string[]): Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  train: { summary: 'train an RBM with CD-k / PCD-k / parallel tempering and save it as safetensors', help: TRAIN_HELP, run: runTrain },
  sample: { summary: 'run Gibbs (or tempered) chains on a saved model and write them as a PNG', help: SAMPLE_HELP, run: runSample },
  eval: { summary: 'free energy, reconstruction error, log-likelihood (exact or AIS) and PLL of a model', help: EVAL_HELP, run: runEval },
  transform: { summary: "write a model's features P(h|v) of the images as a float32 .npy array", help: TRANSFORM_HELP, run: runTransform },
  classify: {
    summary: 'test accuracy of a softmax regression on the features vs on raw pixels (labelled data)',
    help: CLASSIFY_HELP,
    run: runClassify,
  },
  inpaint: { summary: 'fill in the hidden part of images by Gibbs sampling with the known pixels clamped (PNG)', help: INPAINT_HELP, run: runInpaint },
};

const MAIN_HELP = `webgpu-rbm ${version}: Restricted Boltzmann Machines on WebGPU (Node + Dawn)

Usage: webgpu-rbm <command> [options]

Commands
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(9)} ${c.summary}`)
  .join('\n')}

Run "webgpu-rbm <command> --help" for its options. Every command takes --json
(one JSON object on the last line of stdout).

Quick start
  webgpu-rbm train --data mnist --hidden 256 --epochs 5 --out out/mnist.safetensors \\
    --filters out/filters.png --samples out/samples.png

The GPU is reached through Dawn's Vulkan backend; without a GPU, Mesa's
lavapipe is used when installed (set VK_ICD_FILENAMES to choose a driver).
`;

const wantsHelp = (args: string[]): boolean => args.some((a) => a === '--help' || a === '-h');

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' && rest[0] !== undefined && Object.hasOwn(COMMANDS, rest[0]) ? COMMANDS[rest[0]] : undefined;
    // No command at all is a usage error: help goes to stderr, exit 2.
    (name === undefined ? writeStderr : writeStdout)(topic ? topic.help : MAIN_HELP);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    writeStdout(`${version}\n`);
    return 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    throw new UsageError(`unknown command "${name}"; the commands are ${Object.keys(COMMANDS).join(', ')} (run "webgpu-rbm --help")`);
  }
  if (wantsHelp(rest)) {
    writeStdout(command.help);
    return 0;
  }
  return command.run(rest);
}

/** One line on stderr; a stack trace only for bugs (or with WEBGPU_RBM_DEBUG=1). */
function report(e: unknown): number {
  const debug = process.env.WEBGPU_RBM_DEBUG === '1';
  if (e instanceof UsageError || e instanceof CliError) {
    writeStderr(`webgpu-rbm: ${e.message}\n`);
    if (debug && e.stack) writeStderr(e.stack + '\n');
    return e.exitCode;
  }
  // Range and format errors from the library are about the input, not bugs.
  const isInputError = e instanceof RangeError || (e instanceof Error && /FormatError$/.test(e.name));
  if (isInputError && !debug) {
    writeStderr(`webgpu-rbm: ${messageOf(e)}\n`);
    return 1;
  }
  writeStderr(`webgpu-rbm: internal error: ${debug && e instanceof Error && e.stack ? e.stack : messageOf(e)}\n`);
  if (!debug) writeStderr('webgpu-rbm: rerun with WEBGPU_RBM_DEBUG=1 for the stack trace, and please report it\n');
  return 1;
}

guardStdio();
startLifeline();
const argv = process.argv.slice(2);
const code = wantsSupervisor(argv) ? await runSupervised(argv) : await main(argv).catch((e: unknown) => {
  const exitCode = report(e);
  // Under --json a failure is still one JSON object on stdout, for scripts that parse it.
  if (argv.includes('--json')) writeStdout(JSON.stringify({ command: argv[0], error: messageOf(e), exit_code: exitCode }) + '\n');
  return exitCode;
});
await flushOutput();
process.exit(code);
