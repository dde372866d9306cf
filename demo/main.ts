// Entry point of the demo page: find WebGPU (or explain why not), load the
// data, and hand over to the App. The page never goes blank: without a GPU the
// panels show a placeholder and the banner says what is missing.
import { App, buildDisabledGui, drawData, markTiming, setStatus, showProblem, toast, type DemoState } from './app';
import { limitTrain, loadBundled } from './data';
import { escapeHtml, getDevice, problemFromError } from './gpu';
import { readParams } from './params';

const params = readParams();

const state: DemoState = {
  ready: false,
  state: 'loading',
  adapter: '',
  problem: null,
  steps: 0,
  epochs: 0,
  samplesPerSecond: 0,
  hidden: params.hidden,
  batchSize: params.batch,
  recon: [],
  epochRecon: [],
  fgap: [],
  swapAcceptance: [],
  visibleType: params.visible,
  algorithm: params.algorithm,
  fantasySweeps: 0,
  inpaint: { sweeps: 0, holeMean: 0, digit: 0, mode: '' },
  pad: { evaluations: 0, meanActivation: 0 },
  errors: [],
  perf: {},
  timings: {},
  statusLog: [],
};
(window as unknown as { __demo: DemoState }).__demo = state;

async function main(): Promise<void> {
  markTiming(state, 'scriptMs');
  setStatus(state, 'loading', 'loading the digits and looking for a WebGPU adapter…');
  // The digits load while the adapter starts (both take a while on a cold page); they are
  // drawn as soon as they are here, before any GPU work.
  const loading = loadBundled(params.testSize, params.seed).then((d) => {
    const data = limitTrain(d, params.trainRows);
    markTiming(state, 'dataMs');
    if (!state.problem) drawData(data);
    return data;
  });
  // Without a device the data are not needed: a failed load must not be an unhandled rejection then.
  loading.catch(() => undefined);
  const got = await getDevice(params.nogpu);
  if (!got.ok) {
    buildDisabledGui(params);
    showProblem(got.problem, state);
    return;
  }
  markTiming(state, 'deviceMs');
  const { device, adapterName } = got;
  state.adapter = adapterName;
  const adapterEl = document.getElementById('stat-adapter')!;
  adapterEl.textContent = adapterName;
  adapterEl.title = adapterName;
  if (state.timings.dataMs === undefined) setStatus(state, 'loading', 'loading the digits…');
  const data = await loading;
  new App(device, adapterName, data, params, state);
}

main().catch((e: unknown) => {
  console.error(e);
  const msg = e instanceof Error ? e.message : String(e);
  state.errors.push(msg);
  if (!state.ready) {
    // Anything that stops the page from starting is shown in the banner.
    if (!document.querySelector('#gui .lil-gui')) buildDisabledGui(params);
    showProblem({ ...problemFromError(e), title: "The demo could not start", detail: escapeHtml(msg) }, state);
  } else {
    toast(msg);
  }
});
