// Aligned FASTA → integer codes → one-hot Potts rows, and back; the errors name the fix.
import { describe, expect, it } from 'vitest';
import { FastaFormatError, formatFasta, parseFasta, PROTEIN_ALPHABET } from '../../src/data/fasta';
import { codesFromOneHot, oneHotFromCodes } from '../../src/data/potts-codes';

describe('parseFasta', () => {
  it('reads aligned sequences over the protein alphabet (21 states, gap = 0), across lines, case-insensitive', () => {
    const text = '>seq1 first\nAC-\nDY\n\n>seq2\nac.wy\n; a comment\n>seq3\n-----\n';
    const a = parseFasta(text);
    expect(a.names).toEqual(['seq1 first', 'seq2', 'seq3']);
    expect(a.rows).toBe(3);
    expect(a.sites).toBe(5);
    expect(a.alphabet.length).toBe(21);
    const idx = (c: string): number => PROTEIN_ALPHABET.indexOf(c);
    expect(Array.from(a.codes.subarray(0, 5))).toEqual(['A', 'C', '-', 'D', 'Y'].map(idx));
    expect(Array.from(a.codes.subarray(5, 10))).toEqual(['A', 'C', '-', 'W', 'Y'].map(idx));
    expect(Array.from(a.codes.subarray(10))).toEqual([0, 0, 0, 0, 0]);
  });

  it('takes a given alphabet, and round-trips through formatFasta', () => {
    const a = parseFasta('>x\nACGT\n>y\nTTGA\n', { alphabet: 'ACGT' });
    expect(Array.from(a.codes)).toEqual([0, 1, 2, 3, 3, 3, 2, 0]);
    const text = formatFasta(a.codes, 4, 'ACGT', a.names);
    expect(text).toBe('>x\nACGT\n>y\nTTGA\n');
    expect(parseFasta(text, { alphabet: 'ACGT' }).codes).toEqual(a.codes);
    const long = formatFasta(new Uint8Array(130), 130, 'ACGT');
    expect(long.split('\n').map((l) => l.length)).toEqual([5, 60, 60, 10, 0]);
  });

  it('refuses unequal lengths, unknown letters, letters before a header, empty input — naming the fix', () => {
    expect(() => parseFasta('>a\nACD\n>b\nAC\n')).toThrow(/sequence "b" \(line 3\) has 2 sites, the first 3: .*aligned sequences of one length/);
    expect(() => parseFasta('>a\nACDB\n')).toThrow(/line 2 \(sequence "a", site 3\) holds "B", which is not in the alphabet .*--alphabet/);
    expect(() => parseFasta('ACD\n>a\nACD\n')).toThrow(/before any '>' header line/);
    expect(() => parseFasta('\n\n')).toThrow(/holds no sequences/);
    expect(() => parseFasta('>a\n\n>b\nA\n')).toThrow(/sequence "a" \(line 1\) is empty/);
    expect(() => parseFasta('>a\nAA\n', { alphabet: 'AA' })).toThrow(/holds "A" twice/);
    expect(() => parseFasta('>a\nAA\n', { alphabet: 'A' })).toThrow(FastaFormatError);
  });
});

describe('codes and one-hot rows', () => {
  it('expand and collapse exactly, with errors naming row, site and value', () => {
    const codes = [2, 0, 1, 1];
    const oh = oneHotFromCodes(codes, 2, 3);
    expect(Array.from(oh)).toEqual([0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 1, 0]);
    expect(Array.from(codesFromOneHot(oh, 6, 3))).toEqual(codes);
    expect(() => oneHotFromCodes([0, 5], 2, 3)).toThrow(/code 5 at row 0, site 1 is not an integer in 0..2: raise --states to at least 6/);
    expect(() => oneHotFromCodes([0, 1.5], 2, 3)).toThrow(/code 1.5/);
    expect(() => codesFromOneHot(Float32Array.of(1, 1, 0), 3, 3)).toThrow(/not one-hot at row 0, site 0/);
    expect(() => codesFromOneHot(Float32Array.of(0, 0, 0), 3, 3)).toThrow(/not one-hot/);
  });
});
