// Node project: WebGPU through Dawn (lavapipe on machines without a GPU).
import { nodeGPU } from '../../src/gpu/node';
import { setTestGPU } from '../helpers/device';

setTestGPU(nodeGPU(), 'node');
import './common';
