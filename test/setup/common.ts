// Every test fails if WebGPU reported an error that no one captured.
import { afterEach } from 'vitest';
import { takeGPUErrors } from '../helpers/device';

afterEach(async () => {
  const errors = await takeGPUErrors();
  if (errors.length > 0) throw new Error(`uncaptured WebGPU error(s):\n${errors.join('\n')}`);
});
