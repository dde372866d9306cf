// The unit types by name: UNITS.bernoulli, UNITS.gaussian, unitType(name).
// Adding one: shaders/units/<name>.wgsl, src/units/<name>.ts, its entry here
// and its name in UnitName (types.ts) — then also in the model file's
// VisibleType (src/rbm/model-file.ts; tsc flags a mismatch), which reads the
// "visible" metadata with its own list of names.
import { BERNOULLI } from './bernoulli';
import { GAUSSIAN } from './gaussian';
import type { UnitName, UnitType } from './types';

export type { UnitName, UnitType } from './types';

/** Every unit type, by its name (each entry's `name` is its key). */
export const UNITS: { readonly [N in UnitName]: UnitType<N> } = {
  bernoulli: BERNOULLI,
  gaussian: GAUSSIAN,
};

/** Every unit type's name, in registry order (Bernoulli, the default, first). */
export const UNIT_NAMES: readonly UnitName[] = Object.keys(UNITS) as UnitName[];

/** The unit type called `name`; throws a RangeError naming the known ones. */
export function unitType(name: UnitName): UnitType {
  const unit = Object.prototype.hasOwnProperty.call(UNITS, name) ? UNITS[name] : undefined;
  if (!unit) throw new RangeError(`unknown unit type ${JSON.stringify(name)}; known: ${UNIT_NAMES.map((n) => `'${n}'`).join(', ')}`);
  return unit;
}
