// Browser project: the page's own navigator.gpu (SwiftShader in headless Chromium).
import { setTestGPU } from '../helpers/device';

setTestGPU(navigator.gpu, 'browser');
import './common';
