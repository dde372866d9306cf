// Aligned sequences in FASTA, the input of Potts RBMs on protein families:
//   >name description
//   ACDE-FG…          (any number of lines per sequence; every sequence as long as the first)
// Each letter becomes its index in the alphabet: by default the 20 amino acids
// and the gap, '-ACDEFGHIKLMNPQRSTVWY' (q = 21, gap = 0, the order of the
// peers' protein alphabets up to permutation). Lower-case letters are read as
// upper case and '.' as a gap (A2M insert columns are expected to be removed
// already: lengths must agree). Environment-neutral.

/** The 20 amino acids and the gap: q = 21, '-' = state 0. */
export const PROTEIN_ALPHABET = '-ACDEFGHIKLMNPQRSTVWY';

export interface FastaOptions {
  /** The states, one character each, in code order (default PROTEIN_ALPHABET). */
  alphabet?: string;
}

export interface FastaAlignment {
  /** Each sequence's header line, without '>'. */
  names: string[];
  rows: number;
  /** Sites L: the common length. */
  sites: number;
  /** The alphabet used (q = its length). */
  alphabet: string;
  /** [rows, sites] codes, code = index in the alphabet. */
  codes: Uint8Array;
}

export class FastaFormatError extends Error {
  override name = 'FastaFormatError';
}

/** Checks an alphabet: 2..256 distinct characters, no '>' or white space. */
export function checkAlphabet(alphabet: string): void {
  const chars = [...alphabet];
  if (chars.length < 2 || chars.length > 256) throw new FastaFormatError(`an alphabet needs 2 to 256 characters, got ${chars.length} (${JSON.stringify(alphabet)})`);
  const seen = new Set<string>();
  for (const c of chars) {
    if (/\s/.test(c) || c === '>') throw new FastaFormatError(`the alphabet ${JSON.stringify(alphabet)} holds ${JSON.stringify(c)}, which cannot be a state`);
    if (seen.has(c)) throw new FastaFormatError(`the alphabet ${JSON.stringify(alphabet)} holds ${JSON.stringify(c)} twice`);
    seen.add(c);
  }
}

/** Parses aligned FASTA into codes; errors name the sequence, line and fix. */
export function parseFasta(text: string, o: FastaOptions = {}): FastaAlignment {
  const alphabet = o.alphabet ?? PROTEIN_ALPHABET;
  checkAlphabet(alphabet);
  const index = new Map<string, number>([...alphabet].map((c, i) => [c, i]));
  const upperOnly = alphabet === alphabet.toUpperCase();
  const names: string[] = [];
  const seqs: { name: string; line: number; letters: string[] }[] = [];
  const lines = text.split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n].trim();
    if (line === '' || line.startsWith(';')) continue;
    if (line.startsWith('>')) {
      names.push(line.slice(1).trim());
      seqs.push({ name: line.slice(1).trim(), line: n + 1, letters: [] });
      continue;
    }
    const cur = seqs[seqs.length - 1];
    if (!cur) throw new FastaFormatError(`FASTA line ${n + 1} holds sequence letters before any '>' header line; the file must start with '>name'`);
    for (const ch of line.replace(/\s+/g, '')) {
      let c = ch;
      if (upperOnly) c = c.toUpperCase();
      if (c === '.' && !index.has('.') && index.has('-')) c = '-';
      if (!index.has(c)) {
        throw new FastaFormatError(
          `FASTA line ${n + 1} (sequence ${JSON.stringify(cur.name)}, site ${cur.letters.length}) holds ${JSON.stringify(ch)}, which is not in the alphabet ` +
            `${JSON.stringify(alphabet)}; give the alphabet that covers it (--alphabet) or clean the alignment`,
        );
      }
      cur.letters.push(c);
    }
  }
  if (seqs.length === 0) throw new FastaFormatError("the FASTA input holds no sequences (no line starts with '>')");
  const sites = seqs[0].letters.length;
  if (sites === 0) throw new FastaFormatError(`FASTA sequence ${JSON.stringify(seqs[0].name)} (line ${seqs[0].line}) is empty`);
  const codes = new Uint8Array(seqs.length * sites);
  seqs.forEach((s, r) => {
    if (s.letters.length !== sites) {
      throw new FastaFormatError(
        `FASTA sequence ${JSON.stringify(s.name)} (line ${s.line}) has ${s.letters.length} sites, the first ${sites}: ` +
          'a Potts RBM needs aligned sequences of one length (align them, or remove insert columns)',
      );
    }
    s.letters.forEach((c, i) => (codes[r * sites + i] = index.get(c)!));
  });
  return { names, rows: seqs.length, sites, alphabet, codes };
}

/** [rows, sites] codes as FASTA, 60 letters a line; names default to seq<i>. */
export function formatFasta(codes: ArrayLike<number>, sites: number, alphabet: string = PROTEIN_ALPHABET, names?: readonly string[]): string {
  checkAlphabet(alphabet);
  const chars = [...alphabet];
  if (codes.length % sites !== 0) throw new RangeError(`${codes.length} codes are not rows of ${sites} sites`);
  const rows = codes.length / sites;
  const out: string[] = [];
  for (let r = 0; r < rows; r++) {
    out.push(`>${names?.[r] ?? `seq${r}`}`);
    let line = '';
    for (let i = 0; i < sites; i++) {
      const c = codes[r * sites + i];
      if (!(Number.isInteger(c) && c >= 0 && c < chars.length)) throw new RangeError(`code ${c} at row ${r}, site ${i} is outside the alphabet of ${chars.length}`);
      line += chars[c];
      if (line.length === 60) {
        out.push(line);
        line = '';
      }
    }
    if (line) out.push(line);
  }
  return out.join('\n') + '\n';
}
