// Types for qaport's question-answering client in browsers (browser.js: the package's `browser` export
// condition). Answers, predict options and errors are the Node.js entry's (index.d.ts).

import type { Answering } from './index.js';

export type { Answer, Answering, PredictOptions, QAItem } from './index.js';
export { DecodeError, IntegrityError, QAError, MANIFEST, MAX_ANSWER_LEN, MAX_LENGTH, STRIDE } from './index.js';

/** 'onnx' (onnxruntime-web) or 'tfjs' (TensorFlow.js graph model). The SavedModel runs in Node.js only. */
export type WebRuntime = 'onnx' | 'tfjs';
/** onnx: 'wasm' | 'webgpu'; tfjs: 'wasm' | 'webgl' | 'webgpu' | 'cpu'. */
export type WebBackend = 'wasm' | 'webgl' | 'webgpu' | 'cpu';

export interface BrowserQAClientOptions {
  /** 'onnx' (default) or 'tfjs'. */
  runtime?: WebRuntime;
  /** onnx: dynamic int8 model; tfjs: float16 weights. Default false (float32). */
  quantized?: boolean;
  /**
   * Default 'wasm'. onnx: 'wasm' or 'webgpu'; tfjs: 'wasm', 'webgl', 'webgpu' or 'cpu' (TF.js has one
   * engine per page: the first TF.js client chooses its backend).
   */
  backend?: WebBackend;
  /**
   * The served model directory (the package's model/, copied by `npx qaport-web-assets public/`), resolved
   * against the page's URL. Default 'model/'. Every file is checked against its sha256 in manifest.json.
   */
  modelUrl?: string | URL;
  /** Prefix of the runtimes' wasm files: <wasmPaths>ort/ and <wasmPaths>tfjs/. Default 'qaport-wasm/'. */
  wasmPaths?: string | URL;
  /** onnx wasm threads; default every core when the page is cross-origin isolated (COOP + COEP), else 1. */
  threads?: number;
  /** predictBatch: at most this many 384-token windows per model call (default 16). */
  maxBatchWindows?: number;
  /** Longest answer in tokens (default 15). */
  maxAnswerLen?: number;
  /** Tokens per window (default 384). */
  maxLength?: number;
  /** Overlap of consecutive windows in tokens (default 128). */
  stride?: number;
}

export interface BrowserQAClientInfo {
  runtime: WebRuntime;
  quantized: boolean;
  /** qaport format name: onnx, onnx-int8, tfjs or tfjs-fp16. */
  format: string;
  backend: WebBackend;
  /** qaport's runtime id, as in the validation report: onnxruntime-web, onnxruntime-web-webgpu, tfjs-wasm-web, tfjs-webgl, tfjs-webgpu or tfjs-cpu-web. */
  runtimeId: string;
  precision: 'float32' | 'float16' | 'int8' | string;
  /** The model directory's URL. */
  modelUrl: string;
  /** onnx wasm threads in use (null for other backends). */
  threads: number | null;
  crossOriginIsolated: boolean;
  fixedLength: number | null;
  model: string | null;
  architecture: string;
  tokenTypes: boolean;
  versions: Record<string, string | null>;
}

export interface QAClient extends Answering {}
export declare class QAClient {
  /** Fetch, verify (sha256 with WebCrypto) and load the model for a runtime. */
  static fromOptions(options?: BrowserQAClientOptions): Promise<QAClient>;
  readonly info: BrowserQAClientInfo;
}

/** Where `npx qaport-web-assets` puts the model and the wasm files, relative to the page. */
export declare const DEFAULT_MODEL_URL: string;
export declare const DEFAULT_WASM_PATHS: string;

export default QAClient;
