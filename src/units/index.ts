// The unit types by name: UNITS.bernoulli, UNITS.gaussian, UNITS.potts, unitType(name, states?).
// Adding one: shaders/units/<name>.wgsl, src/units/<name>.ts, its entry here
// and its name in UnitName (types.ts) — then also in the model file's
// VisibleType (src/rbm/model-file.ts; tsc flags a mismatch), which reads the
// "visible" metadata with its own list of names.
// Potts units need their states per site q: unitType('potts', q), or
// visibleUnit(model) with the model's visibleStates; UNITS.potts (no q) serves
// the elementwise parts (its WGSL module, free-energy terms) and throws, naming
// the fix, where q matters.
import { BERNOULLI } from './bernoulli';
import { GAUSSIAN } from './gaussian';
import { checkStatesCount, pottsUnit } from './potts';
import type { UnitName, UnitType } from './types';

export type { UnitGroup, UnitName, UnitType } from './types';

/** Every unit type, by its name (each entry's `name` is its key); UNITS.potts without its states count. */
export const UNITS: { readonly [N in UnitName]: UnitType<N> } = {
  bernoulli: BERNOULLI,
  gaussian: GAUSSIAN,
  potts: pottsUnit(),
};

/** Every unit type's name, in registry order (Bernoulli, the default, first). */
export const UNIT_NAMES: readonly UnitName[] = Object.keys(UNITS) as UnitName[];

const POTTS_BY_STATES = new Map<number, UnitType<'potts'>>();

/**
 * The unit type called `name`; throws a RangeError naming the known ones.
 * `states` (q) gives Potts units their group size; other unit types take none.
 */
export function unitType(name: UnitName, states?: number): UnitType {
  const unit = Object.prototype.hasOwnProperty.call(UNITS, name) ? UNITS[name] : undefined;
  if (!unit) throw new RangeError(`unknown unit type ${JSON.stringify(name)}; known: ${UNIT_NAMES.map((n) => `'${n}'`).join(', ')}`);
  if (states === undefined) return unit;
  if (name !== 'potts') {
    if (states === 1) return unit;
    throw new RangeError(`${unit.label} visible units take no states count (got ${states}); only Potts units come in groups`);
  }
  checkStatesCount('states', states);
  let u = POTTS_BY_STATES.get(states);
  if (!u) {
    u = pottsUnit(states);
    POTTS_BY_STATES.set(states, u);
  }
  return u;
}

/** The visible layer of a model: its unit type, with the states per site of a Potts layer. */
export function visibleUnit(model: { readonly visibleType: UnitName; readonly visibleStates?: number }): UnitType {
  if (model.visibleType === 'potts' && model.visibleStates === undefined) {
    throw new RangeError('a Potts model needs its states per site (visibleStates): create it with visibleType: \'potts\', visibleStates: q');
  }
  return unitType(model.visibleType, model.visibleType === 'potts' ? model.visibleStates : undefined);
}
