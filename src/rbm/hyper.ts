// The Hyper uniform shared by update.wgsl and bias_update.wgsl: defined in
// src/gpu/hyper.ts (the tile tuner packs one too, and gpu does not import rbm),
// re-exported here for the trainers.
export { packHyper, type Hyperparameters } from '../gpu/hyper';
