// Entry point of the demo page: find WebGPU (or explain why not), load the
// data, and hand over to the App. The page never goes blank: without a GPU the
// panels show a placeholder and the banner says what is missing.
import { App, buildDisabledGui, showProblem, toast, type DemoState } from './app';
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
};
(window as unknown as { __demo: DemoState }).__demo = state;

async function main(): Promise<void> {
  const got = await getDevice(params.nogpu);
  if (!got.ok) {
    buildDisabledGui(params);
    showProblem(got.problem, state);
    return;
  }
  const { device, adapterName } = got;
  state.adapter = adapterName;
  const adapterEl = document.getElementById('stat-adapter')!;
  adapterEl.textContent = adapterName;
  adapterEl.title = adapterName;
  const data = limitTrain(await loadBundled(params.testSize, params.seed), params.trainRows);
  const app = new App(device, adapterName, data, params, state);
  if (params.autostart) app.session.start();
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
