// `webgpu-rbm classify`: how useful a model's features are for classification.
// A softmax regression (trained on the GPU, src/rbm/classifier.ts) learns the
// labels from the model's features P(h|v) of the training images, and the
// same regression, with the same settings, from the raw pixels; the command
// reports both test accuracies side by side.
import { SoftmaxClassifier, SOFTMAX_DEFAULTS, SOFTMAX_MAX_CLASSES } from '../index';
import type { SoftmaxFitOptions } from '../index';
import { choiceOption, flag, intOption, numberOption, parseCommand, positionals, seedOption, stringOption, withFlagNames } from './args';
import type { OptionSpec } from './args';
import { firstRows, loadData, MNIST_TEST_COUNT } from './data-node';
import type { Images } from './data-node';
import { CliError, UsageError } from './errors';
import { readModelFile } from './files';
import { fmt, formatCount, Reporter } from './output';
import type { JsonObject } from './output';
import { checkImageSize, DEPTH_HELP, mnistSplitLabels, readLabelsFile, splitSeed, withFeatureModel } from './transform';

/** The softmax regression's options as this command spells them, for size errors. */
const CLASSIFY_FLAGS = { batchSize: '--batch', epochs: '--epochs' } as const;

export const CLASSIFY_HELP = `Usage: webgpu-rbm classify MODEL.safetensors [--data mnist] [options]
       webgpu-rbm classify MODEL.safetensors --data FILE --labels FILE --test FILE --test-labels FILE [options]

How good are the model's features for classification? Trains a softmax
(multinomial logistic) regression on the GPU from the model's features
P(h = 1 | v) of the training images (for a stack written by train --stack:
the up-pass through its layers, or the first --depth of them), and the same regression with the same
settings from the raw pixels (intensities in [0, 1], neither thresholded nor
standardised), and prints the test accuracy of both. The model sees the images
as in eval: thresholded at 0.5 (binary units) or standardised with the mean and
std stored in the model file (Gaussian units). Each regression standardises
its inputs' columns with the training rows' mean and std (so one learning rate
suits pixels and features alike), starts from zero weights and visits the rows
in an order fixed by --shuffle-seed: the same command gives the same numbers.

Data
  --data mnist|FILE        training images: the bundled digits' training split
                           (8,000, split by --seed as in train; labels bundled),
                           an IDX images file or a 2-D .npy array     [mnist]
  --labels FILE            IDX labels of --data (*-labels-idx1-ubyte[.gz]),
                           one per image; needed for a --data file
  --test FILE              test images (for mnist: the ${MNIST_TEST_COUNT} held-out digits)
  --test-labels FILE       IDX labels of --test
  --limit N                train on the first N images only
  --test-limit N           test on the first N test images only
  --seed S                 the mnist split's seed (default: the model's seed,
                           so its held-out digits are the test set)
  --classes K              classes; labels must be below K (default: the
                           largest label + 1)

Softmax regression (mini-batch gradient descent with momentum, L2 on the
weights of the standardised inputs)
  --epochs E               passes over the training images            [${SOFTMAX_DEFAULTS.epochs}]
  --batch B                rows per step                              [${SOFTMAX_DEFAULTS.batchSize}]
  --lr X                   learning rate (of the first epoch)         [${SOFTMAX_DEFAULTS.learningRate}]
  --schedule S             linear: the learning rate falls linearly to 0
                           over the epochs; constant: it stays at --lr [${SOFTMAX_DEFAULTS.schedule}]
  --momentum X             momentum in [0, 1)                         [${SOFTMAX_DEFAULTS.momentum}]
  --l2 X                   L2 penalty on the weights                  [${SOFTMAX_DEFAULTS.weightDecay}]
  --shuffle-seed S         the order rows are visited in              [${SOFTMAX_DEFAULTS.seed}]
  --no-standardize         fit on the inputs as they are
  --features-only          skip the raw-pixel regression
${DEPTH_HELP}

  --json                   print one JSON object on the last line of stdout
                           (accuracy_features, accuracy_pixels, …)
  -h, --help               show this help

Examples
  webgpu-rbm classify out/mnist.safetensors --json
  webgpu-rbm classify out/fashion.safetensors \\
    --data train-images-idx3-ubyte.gz --labels train-labels-idx1-ubyte.gz \\
    --test t10k-images-idx3-ubyte.gz --test-labels t10k-labels-idx1-ubyte.gz
`;

const OPTIONS = {
  data: { type: 'string' },
  labels: { type: 'string' },
  test: { type: 'string' },
  'test-labels': { type: 'string' },
  limit: { type: 'string' },
  'test-limit': { type: 'string' },
  seed: { type: 'string' },
  classes: { type: 'string' },
  epochs: { type: 'string' },
  batch: { type: 'string' },
  lr: { type: 'string' },
  schedule: { type: 'string' },
  momentum: { type: 'string' },
  l2: { type: 'string' },
  'shuffle-seed': { type: 'string' },
  'no-standardize': { type: 'boolean' },
  'features-only': { type: 'boolean' },
  depth: { type: 'string' },
} as const satisfies OptionSpec;

interface Labeled {
  images: Images;
  labels: Uint8Array;
}

/** Labels must match the images one to one. */
function checkCount(labels: Uint8Array, images: Images, labelsFlag: string, labelsPath: string, imagesFlag: string): void {
  if (labels.length !== images.count) {
    throw new CliError(
      `${labelsFlag} ${labelsPath} holds ${formatCount(labels.length)} labels but ${imagesFlag} has ${formatCount(images.count)} images; pass the labels file of the same data set`,
    );
  }
}

/** Every label below `classes`, or a one-line error naming the first that is not. */
function checkClasses(labels: Uint8Array, classes: number, what: string, given: boolean): void {
  const bad = labels.findIndex((y) => y >= classes);
  if (bad >= 0) {
    throw new CliError(
      `${what}: label ${labels[bad]} (image ${bad}) is not below ${given ? `--classes ${classes}` : `${classes} classes`}; ` +
        (given ? 'raise --classes' : 'pass --classes'),
    );
  }
}

function majorityAccuracy(train: Uint8Array, test: Uint8Array, classes: number): number {
  const counts = new Array<number>(classes).fill(0);
  for (const y of train) counts[y]++;
  const majority = counts.indexOf(Math.max(...counts));
  let hits = 0;
  for (const y of test) if (y === majority) hits++;
  return hits / test.length;
}

const pct = (x: number): string => `${(100 * x).toFixed(2)} %`;

export async function runClassify(args: string[]): Promise<number> {
  const parsed = parseCommand('classify', args, OPTIONS);
  const [modelPath] = positionals(parsed, 'classify', ['a model file (MODEL.safetensors)']);
  const v = parsed.values;
  const dataSpec = stringOption(v, 'data') ?? 'mnist';
  const mnist = dataSpec === 'mnist';
  const labelsPath = stringOption(v, 'labels');
  const testPath = stringOption(v, 'test');
  const testLabelsPath = stringOption(v, 'test-labels');
  if (mnist && labelsPath !== undefined) throw new UsageError('--labels is for a --data file; the bundled digits (--data mnist) carry their own labels');
  if (!mnist && labelsPath === undefined) throw new UsageError(`classify needs --labels FILE (the IDX labels of --data ${dataSpec})`);
  if (!mnist && testPath === undefined) {
    throw new UsageError('classify needs test images for a --data file: pass --test FILE --test-labels FILE');
  }
  if (testPath !== undefined && testLabelsPath === undefined) throw new UsageError(`classify needs --test-labels FILE (the IDX labels of --test ${testPath})`);
  if (testPath === undefined && testLabelsPath !== undefined) throw new UsageError('--test-labels goes with --test FILE; add --test');
  if (!mnist && v.seed !== undefined) throw new UsageError('--seed sets the split of --data mnist; a file is used as it is');
  const limit = v.limit === undefined ? undefined : intOption(v, 'limit', 1);
  const testLimit = v['test-limit'] === undefined ? undefined : intOption(v, 'test-limit', 1);
  const seedFlag = v.seed === undefined ? undefined : seedOption(v, 0);
  const classesFlag = v.classes === undefined ? undefined : intOption(v, 'classes', 10, 2, SOFTMAX_MAX_CLASSES);
  const fit: SoftmaxFitOptions = {
    epochs: intOption(v, 'epochs', SOFTMAX_DEFAULTS.epochs, 1, 100_000),
    batchSize: intOption(v, 'batch', SOFTMAX_DEFAULTS.batchSize),
    learningRate: numberOption(v, 'lr', SOFTMAX_DEFAULTS.learningRate, { min: 0, above: true }),
    schedule: choiceOption(v, 'schedule', ['linear', 'constant'] as const, SOFTMAX_DEFAULTS.schedule),
    momentum: numberOption(v, 'momentum', SOFTMAX_DEFAULTS.momentum, { min: 0, max: 1, below: true }),
    weightDecay: numberOption(v, 'l2', SOFTMAX_DEFAULTS.weightDecay, { min: 0 }),
    seed: intOption(v, 'shuffle-seed', SOFTMAX_DEFAULTS.seed, 0, 0xffffffff),
    standardize: !flag(v, 'no-standardize'),
  };
  const featuresOnly = flag(v, 'features-only');
  const depth = v.depth === undefined ? undefined : intOption(v, 'depth', 1, 1, 64);
  const out = new Reporter(flag(v, 'json'));

  const modelBytes = await readModelFile(modelPath);
  // Labels are read before any GPU work: a wrong file fails in a second.
  const trainLabelsFile = labelsPath !== undefined ? await readLabelsFile(labelsPath, '--labels') : undefined;
  const testLabelsFile = testLabelsPath !== undefined ? await readLabelsFile(testLabelsPath, '--test-labels') : undefined;
  return withFeatureModel(modelPath, modelBytes, out, depth, async (gpu, model) => {
    const { metadata } = model;
    const seed = splitSeed(seedFlag, metadata);
    const data = await loadData({ data: dataSpec, test: testPath, seed });
    const bundled = mnist ? await mnistSplitLabels(seed) : undefined;
    const trainFull: Labeled = { images: data.train, labels: trainLabelsFile ?? bundled!.train };
    if (trainLabelsFile) checkCount(trainLabelsFile, data.train, '--labels', labelsPath!, `--data ${dataSpec}`);
    const testImages = data.test!;
    const testFull: Labeled = { images: testImages, labels: testLabelsFile ?? bundled!.test };
    if (testLabelsFile) checkCount(testLabelsFile, testImages, '--test-labels', testLabelsPath!, `--test ${testPath}`);
    const train = { images: firstRows(trainFull.images, limit), labels: trainFull.labels.subarray(0, limit) };
    const test = { images: firstRows(testFull.images, testLimit), labels: testFull.labels.subarray(0, testLimit) };
    checkImageSize(model, train.images, '--data');
    checkImageSize(model, test.images, mnist && testPath === undefined ? 'test' : '--test');
    // Default: the largest label + 1 (at least 2), so every label of either set has its class.
    const classes = classesFlag ?? Math.max(2, ...[train.labels, test.labels].map((l) => l.reduce((m, y) => Math.max(m, y + 1), 0)));
    checkClasses(train.labels, classes, labelsPath !== undefined ? `--labels ${labelsPath}` : 'mnist labels', classesFlag !== undefined);
    checkClasses(test.labels, classes, testLabelsPath !== undefined ? `--test-labels ${testLabelsPath}` : 'mnist test labels', classesFlag !== undefined);

    const source = mnist ? (testPath === undefined ? `mnist (seed ${seed})` : 'mnist') : dataSpec;
    out.line(
      `${model.label} ${modelPath}: softmax regression on ${formatCount(train.images.count)} training / ` +
        `${formatCount(test.images.count)} test images from ${source}${testPath !== undefined ? ` and ${testPath}` : ''}, ${classes} classes`,
    );
    out.line(
      `  ${fit.standardize ? 'standardised inputs, ' : ''}${fit.epochs} epochs, batch ${fit.batchSize}, lr ${fit.learningRate} (${fit.schedule}), ` +
        `momentum ${fit.momentum}, L2 ${fit.weightDecay}, shuffle seed ${fit.seed}, on ${gpu.adapterName}`,
    );

    const start = performance.now();
    const featureStart = performance.now();
    const trainFeatures = await model.features(train.images);
    const testFeatures = await model.features(test.images);
    const featureSeconds = (performance.now() - featureStart) / 1000;

    const runOne = async (inputs: number, trainX: Float32Array, testX: Float32Array) => {
      const c = new SoftmaxClassifier(gpu.device, { inputs, classes });
      try {
        const r = await withFlagNames(CLASSIFY_FLAGS, () => c.fit(trainX, train.labels, fit));
        const trainEval = await c.evaluate(trainX, train.labels);
        const testEval = await c.evaluate(testX, test.labels);
        return { fitSeconds: r.seconds, train: trainEval, test: testEval };
      } catch (e) {
        if (e instanceof RangeError && /diverged/.test(e.message)) {
          throw new CliError(`${e.message.replace(/learningRate/g, '--lr').replace(/\(or momentum\)/, '(or --momentum)')}`);
        }
        throw e;
      } finally {
        c.dispose();
      }
    };
    const line = (what: string, r: Awaited<ReturnType<typeof runOne>>): string =>
      `${what.padEnd(30)} test accuracy ${pct(r.test.accuracy).padStart(8)}  (train ${pct(r.train.accuracy)}, ` +
      `test loss ${fmt(r.test.loss, 4)}, fit ${fmt(r.fitSeconds, 3)} s)`;
    const feat = await runOne(model.hidden, trainFeatures, testFeatures);
    out.line(line(`features (${model.hidden} hidden units)`, feat));
    let pix: Awaited<ReturnType<typeof runOne>> | undefined;
    if (!featuresOnly) {
      pix = await runOne(model.visible, train.images.pixels, test.images.pixels);
      out.line(line(`raw pixels (${model.visible} values)`, pix));
    }
    const majority = majorityAccuracy(train.labels, test.labels, classes);
    out.line(`${'majority class'.padEnd(30)} test accuracy ${pct(majority).padStart(8)}`);
    const json: JsonObject = {
      command: 'classify',
      model: modelPath,
      visible: model.visible,
      hidden: model.hidden,
      visible_type: model.visibleType,
      stack: model.stack ? model.sizes : undefined,
      depth: model.stack ? model.depth : undefined,
      data: mnist ? 'mnist' : dataSpec,
      test: testPath ?? (mnist ? 'mnist' : undefined),
      seed: mnist ? seed : undefined,
      count: train.images.count,
      test_count: test.images.count,
      classes,
      epochs: fit.epochs,
      batch: fit.batchSize,
      lr: fit.learningRate,
      schedule: fit.schedule,
      momentum: fit.momentum,
      l2: fit.weightDecay,
      shuffle_seed: fit.seed,
      standardize: fit.standardize,
      accuracy_features: feat.test.accuracy,
      accuracy_pixels: pix?.test.accuracy,
      train_accuracy_features: feat.train.accuracy,
      train_accuracy_pixels: pix?.train.accuracy,
      test_loss_features: feat.test.loss,
      test_loss_pixels: pix?.test.loss,
      majority_accuracy: majority,
      features_seconds: featureSeconds,
      fit_seconds_features: feat.fitSeconds,
      fit_seconds_pixels: pix?.fitSeconds,
      seconds: (performance.now() - start) / 1000,
      adapter: gpu.adapterName,
    };
    out.result(json);
    return 0;
  });
}
