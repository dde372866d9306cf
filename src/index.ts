// The public API of webgpu-rbm. Everything else is internal.
export { acquireDevice, WebGPUUnavailableError } from './gpu/device';
export type { AcquiredDevice, DeviceRequest } from './gpu/device';
export { DeviceLimitError, DisposedError, HostMemoryError, hostMemoryBudget, setHostMemoryBudget, describeSizeLimit, formatBytes } from './gpu/buffers';
export { OptionError } from './rbm/validate';
export type { SizeFactor, SizeLimit } from './gpu/buffers';
export type { TileShape } from './gpu/kernels';
export { RBM } from './rbm/model';
export type { RBMOptions, RBMParamsF32, LoadedModel, ModelFileOptions } from './rbm/model';
export { CDTrainer } from './rbm/trainer';
export type { TrainerOptions, Hyperparameters } from './rbm/trainer';
export { GpuDataset } from './rbm/dataset';
export type { BinarizeMode } from './rbm/dataset';
export { standardizeInGather, MAX_DATASET_VALUES } from './rbm/dataset';
export type { DatasetUploadOptions, DataShard, GatherStandardisation } from './rbm/dataset';
export type { GatherData } from './rbm/dataset';
export { StreamedDataset, DEFAULT_DATA_BUDGET_BYTES, planDataPlacement, uploadTrainingData } from './rbm/streamed-dataset';
export type { DataPlacement, TrainingDataOptions } from './rbm/streamed-dataset';
export type { FitOptions, FitResult, TrainingRun, TrainingProgress, EpochStats, Schedule } from './rbm/fit';
export { DEFAULT_CENTERING_RATE, RECOMMENDED_FIT_OPTIONS } from './rbm/fit';
export {
  BINARY_FIT_DEFAULTS, GAUSSIAN_FIT_DEFAULTS, POTTS_FIT_DEFAULTS, FIT_DEFAULTS, DEFAULT_LEARNING_RATE, DEFAULT_GAUSSIAN_LEARNING_RATE,
  PCD_MIN_CHAINS, pcdChains, withFitDefaults,
} from './rbm/fit-defaults';
export type { FitDefaults } from './rbm/fit-defaults';
export type { LearningRateSchedule } from './rbm/fit';
export type { CenteringOptions } from './rbm/trainer';
export { GibbsChains } from './rbm/sampler';
export type { ChainOptions, SampleOptions, SampleResult } from './rbm/sampler';
export { SafetensorsFormatError, SAFETENSORS_MAX_HEADER, safetensorsDeclaredSize, safetensorsShapes } from './rbm/safetensors';
export {
  rbmToSafetensors, rbmFromSafetensors, MODEL_FILE_FORMAT, MODEL_KEYS,
  readModelStandardisation, standardisationMetadata, readImageShape, imageShapeMetadata,
} from './rbm/model-file';
export type { VisibleType, ModelStandardisation, ImageShape, RbmFile, RbmParameters } from './rbm/model-file';
export { IdxFormatError, readIdx, parseIdx, idxImagesToDataset, idxDeclaredSize, isGzip, IDX_MAX_BYTES } from './data/idx';
export type { ImageDataset, IdxData, IdxReadOptions } from './data/idx';
export { readIdxStream, idxToByteImages } from './data/idx';
export type { IdxStreamOptions } from './data/idx';
export { readNpy, readNpyStream, parseNpyHeader, npyDeclaredSize, isNpy, NpyFormatError, NPY_MAX_BYTES } from './data/npy';
export type { NpyData, NpyHeader, NpyDtype, NpyReadOptions } from './data/npy';
export { readDataStream } from './data/read-data';
export type { DataFile, DataReadOptions } from './data/read-data';
export { ByteReader, gunzipChunks } from './data/chunks';
export type { ByteChunks } from './data/chunks';
export {
  sourceRows, sourceHead, sourceSubset, sourceLength, sourceFormat, sourceColumnMeans, imageRows, byteColumnStats, U8_VALUES,
} from './data/source';
export type { DataSource, DataFormat, ImageBytes, BinaryBytes, ByteImages } from './data/source';
export { loadBundledMnist, MNIST_IMAGES_ASSET, MNIST_LABELS_ASSET } from './data/mnist';
export type { LabeledImages } from './data/mnist';
export { binarizeThreshold, binarizeStochastic } from './data/binarize';
export { splitDataset, shuffledPermutation, gatherRows } from './data/split';
export { tileGrid } from './data/tiles';
export type { GrayImage, TileGridOptions } from './data/tiles';
export { columnMeans } from './rbm/init';
export { exactLogZ, averageLogLikelihood, enumeratedLayer, MAX_EXACT_LOGZ_UNITS } from './rbm/logz';
export { ais, reverseAis } from './rbm/ais';
export type { AISOptions, AISResult } from './rbm/ais';
export {
  trajectoryAis, reverseTrajectoryAis, trajectoryBaseLogZ, TrajectoryRecorder, DEFAULT_TRAJECTORY_STEPS_BETWEEN,
} from './rbm/trajectory';
export type {
  Trajectory, TrajectoryBase, RecordableModel, TrajectoryAISOptions, ReverseTrajectoryAISOptions, TrajectoryAISResult,
  ForwardTrajectoryAISResult,
} from './rbm/trajectory';
export type { AISEstimate } from './host/ais-math';
export {
  logZBounds, convergedLogZ, drawReverseStart, boundsConverged, logMeanSigma, stopReason, planNextRound, nextRefinement, noiseDominates, poolBounds,
  batchSeed, DEFAULT_BOUNDS_BETAS, DEFAULT_LOGZ_TOLERANCE, DEFAULT_MAX_BETAS, DEFAULT_MAX_RUNS,
} from './rbm/loglik-bounds';
export type {
  LogZBounds, LogZBoundsOptions, ConvergedLogZ, ConvergedLogZOptions, ConvergenceReason, ReverseStart, ReverseStartKind, Refinement, RefineLimits, RoundSummary,
  TemperingStartOptions,
} from './rbm/loglik-bounds';
export { exactSamples, exactSampler, exactSamplesFromParams, canSampleExactly, MAX_EXACT_SAMPLE_UNITS } from './rbm/exact-sample';
export type { ExactSampleOptions, ExactSampler, ExactSamples, HostModel } from './rbm/exact-sample';
export { freeEnergyGap, meanFreeEnergy, pseudoLogLikelihood } from './rbm/monitors';
export type { PseudoLikelihood, PseudoLikelihoodOptions } from './rbm/monitors';
export { DeviceLostError } from './gpu/lost';
export { GpuContext, GpuScopeError } from './gpu/context';
export type { CacheKey, ContextInfo, DeviceLike, PromiseCache } from './gpu/context';
export { WgslCompileError } from './gpu/kernels';
export { standardize, applyStandardize, unstandardize } from './data/standardize';
export type { TileChoice } from './gpu/tune';
export { parallelTempering, TemperedChains, linearBetas, DEFAULT_REPLICAS } from './rbm/tempering';
export type { TemperingOptions, TemperingResult } from './rbm/tempering';
export { DEFAULT_ADAPT_SWEEPS, DEFAULT_ADAPT_WINDOWS, DEFAULT_GEOMETRIC_BETA_MIN } from './rbm/tempering';
export type { AdaptOptions, LadderAdaptation, TemperingBase, TemperingSampleOptions } from './rbm/tempering';
export { geometricBetas, retuneBetas, replicasForTarget, DEFAULT_TARGET_ACCEPTANCE } from './rbm/ladder';
export type { RetuneOptions } from './rbm/ladder';
export { trainPT, fitPT } from './rbm/pt-train';
export type { PTFitOptions, PTFitResult, PTTrainingRun, PTEpochStats } from './rbm/pt-train';
export { DivergenceError } from './rbm/divergence';
export type { ParamSnapshot, NonFiniteCounts, DivergenceInfo } from './rbm/divergence';
export { ModelBusyError } from './rbm/model';
export { SoftmaxClassifier, softmaxEpochBatches, softmaxLearningRate, SOFTMAX_DEFAULTS, SOFTMAX_MAX_CLASSES } from './rbm/classifier';
export type {
  SoftmaxClassifierOptions, SoftmaxFitOptions, SoftmaxFitResult, SoftmaxEvaluation, SoftmaxParams, SoftmaxSchedule,
} from './rbm/classifier';
export { npyBytes, npyHeader, npyDescr } from './data/npy-write';
export type { NpyWritable } from './data/npy-write';
export {
  checkpointToSafetensors, checkpointFromSafetensors, checkTrainingState, isCheckpoint,
  CHECKPOINT_KEYS, CHECKPOINT_TENSORS, CHECKPOINT_VERSION,
} from './rbm/checkpoint';
export type { TrainingState, TrainingSettings, TrainingMethod, TemperingCheckpoint, LoadedCheckpoint } from './rbm/checkpoint';
export type { TrainerState } from './rbm/trainer';
export type { TemperingState } from './rbm/tempering';
export { RBMStack } from './rbm/stack';
export type { RBMStackOptions, StackFitOptions, StackFitResult, StackLayerInfo, StackSampleOptions, StackSampleResult, LoadedStack } from './rbm/stack';
export { stackToSafetensors, stackFromSafetensors, isStackSafetensors, parseLayerSizes, STACK_FILE_FORMAT, STACK_FILE_VERSION, STACK_KEYS } from './rbm/stack-file';
export type { StackParameters, StackFile, StackLayerParams, StackVisibleType } from './rbm/stack-file';
// Potts (categorical) visible units: the unit types, codes ↔ one-hot, aligned FASTA.
export { UNITS, UNIT_NAMES, unitType, visibleUnit } from './units';
export type { UnitGroup, UnitName, UnitType } from './units';
export { pottsUnit, zeroSumGauge, checkOneHot, MAX_POTTS_STATES } from './units/potts';
export { oneHotFromCodes, codesFromOneHot, codesFromNpy, maxCode as maxCodeOf } from './data/potts-codes';
export { parseFasta, formatFasta, checkAlphabet, PROTEIN_ALPHABET, FastaFormatError } from './data/fasta';
export type { FastaAlignment, FastaOptions } from './data/fasta';
