// The web app: a generator (bundled demo or the user's run) corrects a dropped image on this machine's GPU.
// Every failure is one line in #status; nothing leaves the page.
import * as comi from '../src/browser.js';
import type { Image, Format, CorrectSettings } from '../src/browser.js';

/** The engine, for the console and the browser tests. */
(globalThis as { comi?: typeof comi }).comi = comi;

const DISPLAY_PERCENTILES = comi.DEFAULT_PERCENTILES;
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = $<HTMLParagraphElement>('status');
const correctButton = $<HTMLButtonElement>('correct');
const cancelButton = $<HTMLButtonElement>('cancel');
const downloadButton = $<HTMLButtonElement>('download');
const progress = $<HTMLProgressElement>('progress');

type Model = Awaited<ReturnType<typeof comi.generatorFromBytes>> & { name: string; settings: CorrectSettings };
interface Input { image: Image; format: Format; name: string }

const state: { model: Model | null; input: Input | null; result: Image | null; cancelled: boolean; busy: boolean } = {
  model: null, input: null, result: null, cancelled: false, busy: false,
};
/** For the browser tests: what the page holds. */
(globalThis as { comiApp?: typeof state }).comiApp = state;

function say(line: string, error = false): void {
  status.textContent = line;
  status.classList.toggle('error', error);
}

function fail(what: string, err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  say(`${what}: ${message.split('\n')[0]}`, true);
}

function updateButtons(): void {
  correctButton.disabled = state.busy || !state.model || !state.input;
  cancelButton.disabled = !state.busy;
  downloadButton.disabled = state.busy || !state.result;
}

async function loadModel(bytes: Uint8Array, name: string, config?: unknown): Promise<void> {
  state.model?.generator.dispose();
  state.model = null;
  updateButtons();
  const loaded = await comi.generatorFromBytes(bytes, name);
  // A run's config.json, when given, sets the intensity mapping; it must describe the same network.
  const runConfig = config === undefined ? loaded.config : (config as typeof loaded.config);
  if (JSON.stringify(runConfig.model) !== JSON.stringify(loaded.config.model)) {
    loaded.generator.dispose();
    throw new Error(`${name} and its config.json describe different networks`);
  }
  state.model = { ...loaded, name, settings: comi.runSettings(runConfig) };
  updateButtons();
}

async function loadDemoModel(): Promise<void> {
  const res = await fetch('models/demo/generator.safetensors');
  if (!res.ok) throw new Error(`the bundled model is missing (HTTP ${res.status})`);
  await loadModel(new Uint8Array(await res.arrayBuffer()), 'bundled demo model');
}

async function loadModelFiles(files: FileList): Promise<void> {
  const weights = [...files].find((f) => f.name.endsWith('.safetensors'));
  const configFile = [...files].find((f) => f.name.endsWith('.json'));
  if (!weights) throw new Error('choose a generator.safetensors (with its config.json if you like)');
  let config: unknown;
  if (configFile) {
    try {
      config = JSON.parse(await configFile.text());
    } catch {
      throw new Error(`${configFile.name} is not JSON`);
    }
  }
  await loadModel(new Uint8Array(await weights.arrayBuffer()), weights.name, config);
}

async function decode(bytes: Uint8Array, name: string): Promise<Input> {
  const format = comi.sniffFormat(bytes, name);
  const image = format === 'png' ? comi.decodePng(bytes, name) : format === 'jpeg' ? comi.decodeJpeg(bytes, name) : (await comi.decodeTiff(bytes, name, false))[0];
  if (image.bitDepth === 32) throw new Error(`not supported in the browser yet: 32-bit float TIFF (${name})`);
  return { image, format, name };
}

/** 8-bit RGBA for display: [lo, hi] stretched to 0–255 (clipped), the same mapping for before and after. */
function toRgba(img: Image, lo: number, hi: number): ImageData {
  const out = new ImageData(img.width, img.height);
  const k = hi > lo ? 255 / (hi - lo) : 0;
  for (let i = 0; i < img.width * img.height; i++) {
    for (let c = 0; c < 3; c++) out.data[4 * i + c] = (img.data[i * img.channels + (img.channels === 3 ? c : 0)] - lo) * k;
    out.data[4 * i + 3] = 255;
  }
  return out;
}

function draw(canvas: HTMLCanvasElement, img: Image, lo: number, hi: number): void {
  canvas.width = img.width;
  canvas.height = img.height;
  canvas.getContext('2d')!.putImageData(toRgba(img, lo, hi), 0, 0);
}

function show(): void {
  const input = state.input!;
  // The input's 0.1–99.9 percentiles, as the generator's normalisation: a few hot pixels do not darken the view.
  const [lo, hi] = comi.percentiles(input.image, [DISPLAY_PERCENTILES.pLow, DISPLAY_PERCENTILES.pHigh]);
  draw($('before'), input.image, lo, hi);
  if (state.result) draw($('after'), state.result, lo, hi);
  $('after').hidden = !state.result;
  $('viewer').hidden = false;
  layout();
}

function layout(): void {
  const zoom = Number($<HTMLInputElement>('zoom').value);
  for (const id of ['before', 'after']) {
    const c = $<HTMLCanvasElement>(id);
    c.style.width = `${c.width * zoom}px`;
    c.style.height = `${c.height * zoom}px`;
  }
  $('after').style.clipPath = `inset(0 0 0 ${$<HTMLInputElement>('split').value}%)`;
}

async function takeImage(file: File): Promise<void> {
  state.input = null;
  state.result = null;
  updateButtons();
  state.input = await decode(new Uint8Array(await file.arrayBuffer()), file.name);
  const { width, height, channels, bitDepth } = state.input.image;
  show();
  say(`${file.name}: ${width}×${height}, ${channels === 3 ? 'RGB' : 'gray'}, ${bitDepth}-bit. Press Correct.`);
  updateButtons();
}

async function correct(): Promise<void> {
  const { model, input } = state;
  if (!model || !input) return;
  state.busy = true;
  state.cancelled = false;
  state.result = null;
  updateButtons();
  progress.value = 0;
  say(`correcting ${input.name}…`);
  const started = performance.now();
  try {
    const r = await comi.correctImage(model.generator, input.image, model.settings, (done, total) => {
      if (state.cancelled) throw new Error('cancelled');
      progress.value = done / total;
      say(`correcting ${input.name}: tile ${done} of ${total}`);
    });
    state.result = r.image;
    show();
    say(`${input.name} corrected in ${((performance.now() - started) / 1000).toFixed(1)} s (${r.tiles} tile(s) of ${r.tile}², ${r.passes} pass(es)).`);
  } catch (err) {
    if (state.cancelled) say('correction cancelled', true);
    else fail(`cannot correct ${input.name}`, err);
  } finally {
    state.busy = false;
    updateButtons();
  }
}

/** The result is written in the input's format, with the input's bit depth (the correction keeps it). */
const WRITERS: Record<Format, { encode: (img: Image) => Uint8Array; ext: string }> = {
  png: { encode: comi.encodePng, ext: '.png' },
  jpeg: { encode: (img) => comi.encodeJpeg(img), ext: '.jpg' },
  tiff: { encode: comi.encodeTiff, ext: '.tif' },
};

function download(): void {
  const { input, result } = state;
  if (!input || !result) return;
  const { encode, ext } = WRITERS[input.format];
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([encode(result) as BlobPart], { type: `image/${input.format}` }));
  a.download = `${input.name.replace(/\.[^.]*$/, '')}_corrected${ext}`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

function wire(): void {
  const modelFile = $<HTMLInputElement>('model-file');
  const choice = $<HTMLSelectElement>('model-choice');
  choice.addEventListener('change', () => {
    if (choice.value === 'file') modelFile.click();
    else loadDemoModel().then(() => say('bundled demo model loaded'), (e) => fail('cannot load the demo model', e));
  });
  modelFile.addEventListener('change', () => {
    if (!modelFile.files?.length) return;
    say('loading the model…');
    loadModelFiles(modelFile.files).then(() => say(`model ${state.model!.name} loaded`), (e) => fail('cannot load the model', e));
    choice.value = 'file';
  });
  const imageFile = $<HTMLInputElement>('image-file');
  imageFile.addEventListener('change', () => {
    if (imageFile.files?.[0]) takeImage(imageFile.files[0]).catch((e) => fail('cannot read the image', e));
  });
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const file = e.dataTransfer?.files[0];
    if (file) takeImage(file).catch((err) => fail('cannot read the image', err));
  });
  correctButton.addEventListener('click', () => void correct());
  cancelButton.addEventListener('click', () => {
    state.cancelled = true;
  });
  downloadButton.addEventListener('click', download);
  $('zoom').addEventListener('input', layout);
  $('split').addEventListener('input', layout);
}

async function main(): Promise<void> {
  wire();
  try {
    const r = await comi.initGpu();
    $('adapter').textContent = `WebGPU adapter: ${r.gpu.adapterName}`;
  } catch (err) {
    $('adapter').textContent = 'WebGPU adapter: none';
    fail('WebGPU is not available', err);
    return;
  }
  try {
    await loadDemoModel();
    say('Ready: drop an image (PNG, JPEG or TIFF), or choose one.');
  } catch (err) {
    fail('cannot load the demo model', err);
  }
}

void main();
