// The CLI on a Potts model, as a user runs it: train --visible potts on aligned
// FASTA and on a .npy of integer codes, sample to FASTA and .npy codes, eval
// with exact log Z; bad input fails with one line naming the fix.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codesFromNpy, parseFasta, readNpy, rbmFromSafetensors } from '../../src/index';
import { npyBytes } from '../../src/data/npy-write';
import { buildCli, expectCleanFailure, lastJson, runCli } from './helpers';

let dir: string;
const L = 6;
const ROWS = 120;
/** Sequences over ACGT with a motif (sites 1–3 = "GAT") in about half of them. */
function sequences(seed: number): number[][] {
  let s = seed;
  const rand = (): number => ((s = (s * 1103515245 + 12345) >>> 0) >>> 8) / 2 ** 24;
  return Array.from({ length: ROWS }, () => {
    const c = Array.from({ length: L }, () => Math.floor(rand() * 4));
    if (rand() < 0.5) [c[1], c[2], c[3]] = [2, 0, 3];
    return c;
  });
}
const fasta = (rows: number[][]): string => rows.map((c, i) => `>s${i}\n${c.map((x) => 'ACGT'[x]).join('')}`).join('\n') + '\n';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'webgpu-rbm-potts-'));
  await writeFile(join(dir, 'train.fasta'), fasta(sequences(1)));
  await writeFile(join(dir, 'test.fasta'), fasta(sequences(2)));
  await writeFile(join(dir, 'codes.npy'), npyBytes(Uint8Array.from(sequences(3).flat()), [ROWS, L]));
  await writeFile(join(dir, 'ragged.fasta'), '>a\nACGT\n>b\nACG\n');
  await buildCli();
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('webgpu-rbm with --visible potts', () => {
  it('trains on FASTA, writes a Potts model; sample writes FASTA and .npy codes; eval agrees on log Z', async () => {
    const model = join(dir, 'm.safetensors');
    const t = await runCli([
      'train', '--visible', 'potts', '--alphabet', 'ACGT', '--data', join(dir, 'train.fasta'), '--test', join(dir, 'test.fasta'),
      '--hidden', '3', '--epochs', '3', '--batch', '20', '--out', model, '--json',
    ]);
    expect(t.code, t.stderr).toBe(0);
    const tj = lastJson(t);
    expect(tj).toMatchObject({ command: 'train', visible: 'potts', states: 4, sites: L, hidden: 3, rows: ROWS, gauge: 'zerosum', alphabet: 'ACGT' });
    const f = rbmFromSafetensors(await readFile(model));
    expect(f.visibleType).toBe('potts');
    expect(f.visibleStates).toBe(4);
    expect(f.metadata.alphabet).toBe('ACGT');
    // Saved in the zero-sum gauge: every site's biases sum to 0 over its states.
    for (let s = 0; s < L; s++) expect(Math.abs(f.b[4 * s] + f.b[4 * s + 1] + f.b[4 * s + 2] + f.b[4 * s + 3])).toBeLessThan(1e-5);

    const sf = await runCli(['sample', model, '--chains', '7', '--steps', '20', '--out', join(dir, 's.fasta'), '--json']);
    expect(sf.code, sf.stderr).toBe(0);
    const a = parseFasta(await readFile(join(dir, 's.fasta'), 'utf8'), { alphabet: 'ACGT' });
    expect([a.rows, a.sites]).toEqual([7, L]);
    const sn = await runCli(['sample', model, '--chains', '5', '--steps', '20', '--out', join(dir, 's.npy')]);
    expect(sn.code, sn.stderr).toBe(0);
    const codes = codesFromNpy(await readNpy(await readFile(join(dir, 's.npy')), { integers: true }));
    expect([codes.rows, codes.sites]).toEqual([5, L]);
    expect(Array.from(codes.codes).every((c) => c >= 0 && c < 4)).toBe(true);

    const e = await runCli(['eval', model, '--data', join(dir, 'test.fasta'), '--json']);
    expect(e.code, e.stderr).toBe(0);
    const ej = lastJson(e);
    expect(ej.log_z_method).toBe('exact');
    expect(Math.abs((ej.log_z as number) - (tj.log_z as number))).toBeLessThan(1e-4);
    expect(Math.abs((ej.log_likelihood as number) - (tj.log_likelihood_test as number))).toBeLessThan(1e-3);
  });

  it('trains on .npy codes with --states', async () => {
    const r = await runCli([
      'train', '--visible', 'potts', '--states', '4', '--data', join(dir, 'codes.npy'), '--hidden', '2', '--epochs', '1', '--batch', '30',
      '--out', join(dir, 'n.safetensors'), '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(lastJson(r)).toMatchObject({ states: 4, sites: L, rows: ROWS });
  });

  it('fails with one line naming the fix: ragged FASTA, .npy without --states, codes beyond --states, a PNG of sequences', async () => {
    expectCleanFailure(
      await runCli(['train', '--visible', 'potts', '--alphabet', 'ACGT', '--data', join(dir, 'ragged.fasta'), '--out', join(dir, 'x.safetensors')]),
      1, /sequence "b" \(line 3\) has 3 sites, the first 4/, /aligned/,
    );
    expectCleanFailure(
      await runCli(['train', '--visible', 'potts', '--data', join(dir, 'codes.npy'), '--out', join(dir, 'x.safetensors')]),
      1, /--states is required with .npy codes/, /largest code is 3/,
    );
    expectCleanFailure(
      await runCli(['train', '--visible', 'potts', '--states', '3', '--data', join(dir, 'codes.npy'), '--out', join(dir, 'x.safetensors')]),
      1, /code 3 at row \d+, site \d+ is not an integer in 0..2: raise --states to at least 4/,
    );
    expectCleanFailure(
      await runCli(['sample', join(dir, 'm.safetensors'), '--out', join(dir, 's.png')]),
      2, /write FASTA \(.fasta\) or integer codes \(.npy\), not a PNG/,
    );
  });
});
