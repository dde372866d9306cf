// What softmax_forward.wgsl and softmax_update.wgsl share (linked before each):
// the softmax regression's uniform structs and which rows a step's mini-batch
// holds. Self-contained: it reads no binding; the includer passes what it needs.
//
// The model (src/rbm/classifier.ts): logits z = x·W + b, p = softmax(z), loss
// = mean cross-entropy −log p_y + (weight_decay / 2)·‖W‖², trained by
// mini-batch gradient descent with momentum.
//
// Layout (row-major; f32 unless marked u32), for one shard of the inputs:
//   x [rows, n_in], labels [rows] u32, perm [rows] u32 (this epoch's order of
//   the shard's rows), W [n_in, classes], b [classes], prob [batch, classes],
//   state [4] u32 (state[0]: the shard's step counter, advanced by advance.wgsl).
// Step t covers mini-batch q = t mod batches of the epoch:
//   rows perm[q·batch + m] for m < n,  n = min(batch, rows − q·batch).
// Prediction binds an identity perm, a zero state and batch = rows, batches = 1.

struct Dims {
  // Rows of x (the shard).
  rows: u32,
  // D: inputs per row.
  n_in: u32,
  // K: classes.
  classes: u32,
  // B: rows per mini-batch (the last one of an epoch may hold fewer).
  batch: u32,
  // ceil(rows / batch): mini-batches per epoch.
  batches: u32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

struct Optim {
  learning_rate: f32,
  momentum: f32,
  // L2 penalty on W (not on b): adds weight_decay · W to the gradient.
  weight_decay: f32,
  _pad: f32,
}

struct BatchRange {
  // Index into perm of the mini-batch's first row.
  start: u32,
  // Rows in the mini-batch.
  count: u32,
}

// The rows step `step` trains on (see the file comment).
fn softmax_batch(d: Dims, step: u32) -> BatchRange {
  let start = (step % d.batches) * d.batch;
  return BatchRange(start, min(d.batch, d.rows - start));
}
