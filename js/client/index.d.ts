// Types for qaport's question-answering client in Node.js (index.js); browser.d.ts types the browser
// entry (browser.js) and shares Answer, PredictOptions, QAItem and the errors declared here.

/** One answer span. */
export interface Answer {
  /**
   * The answer as it appears in the context; '' (start = end = 0) for the null answer of
   * `handleImpossibleAnswer`, or when the model found no span.
   */
  text: string;
  /**
   * Probability of the span: softmax(start) * softmax(end), summed over equal texts (the null answer:
   * the lowest softmax(start)[0] * softmax(end)[0] over the windows, as transformers' pipeline scores it).
   */
  score: number;
  /** Start offset in Unicode code points, as in Python (`context[start:end]`). */
  start: number;
  /** End offset (exclusive) in Unicode code points. */
  end: number;
  /** Start offset in UTF-16 code units: `context.slice(startUtf16, endUtf16) === text`. */
  startUtf16: number;
  /** End offset (exclusive) in UTF-16 code units. */
  endUtf16: number;
}

/** predict()/predictBatch() options, as transformers' question-answering pipeline names them. */
export interface PredictOptions {
  /** How many answers, best first (default 1); above 1 the result is an array of at most topK answers. */
  topK?: number;
  /** SQuAD 2.0 models: return the null answer (text '') when it outscores every span (default false). */
  handleImpossibleAnswer?: boolean;
}

export interface QAItem {
  question: string;
  context: string;
}

/** 'onnx' (onnxruntime-node), 'tfjs' (TF.js graph model), 'savedmodel' (TF SavedModel on @tensorflow/tfjs-node). */
export type Runtime = 'onnx' | 'tfjs' | 'savedmodel';
/** TF.js backend: libtensorflow through @tensorflow/tfjs-node, WebAssembly, or pure JavaScript. */
export type Backend = 'tensorflow' | 'wasm' | 'cpu';

export interface QAClientOptions {
  /**
   * 'onnx' (onnxruntime-node, default), 'tfjs' (TensorFlow.js) or 'savedmodel' (the SavedModel through
   * tf.node.loadSavedModel; needs the optional peer @tensorflow/tfjs-node).
   */
  runtime?: Runtime;
  /** onnx: dynamic int8 model; tfjs: float16 weights; savedmodel: float32 only. Default false (float32). */
  quantized?: boolean;
  /** A qaport model directory (with manifest.json); default: the model shipped in this package. */
  modelDir?: string;
  /**
   * runtime 'tfjs' only: 'tensorflow' (default when @tensorflow/tfjs-node is installed), 'wasm' (default
   * otherwise) or 'cpu'. Process-wide: the first TF.js client (or a savedmodel client, which needs
   * 'tensorflow') chooses it.
   */
  backend?: Backend;
  /** predictBatch: at most this many 384-token windows per model call (default 16). */
  maxBatchWindows?: number;
  /** Longest answer in tokens (default 15). */
  maxAnswerLen?: number;
  /** Tokens per window (default 384). */
  maxLength?: number;
  /** Overlap of consecutive windows in tokens (default 128). */
  stride?: number;
}

export interface QAClientInfo {
  runtime: Runtime;
  quantized: boolean;
  /** qaport format name: onnx, onnx-int8, tfjs, tfjs-fp16 or savedmodel. */
  format: string;
  /** The backend that runs it: 'cpu' for onnxruntime-node, the TF.js backend otherwise. */
  backend: Backend | 'cpu';
  /** qaport's runtime id, as in the validation report: onnxruntime-node, tfjs-node, tfjs-wasm or tfjs-cpu. */
  runtimeId: string;
  precision: 'float32' | 'float16' | 'int8' | string;
  modelDir: string;
  fixedLength: number | null;
  model: string | null;
  /** The model's architecture (manifest model_type): distilbert, bert, roberta, mobilebert or albert. */
  architecture: string;
  /** Whether the model takes token_type_ids (BERT, MobileBERT, ALBERT); the client feeds them. */
  tokenTypes: boolean;
  versions: Record<string, string | null>;
}

/** What a loaded client answers with: the same in Node.js (this entry) and in browsers (browser.d.ts). */
export interface Answering {
  /** The best answer of `context` for `question` (long contexts are windowed). */
  predict(question: string, context: string, options?: PredictOptions & { topK?: 1 }): Promise<Answer>;
  /** With topK > 1: up to topK answers, best first (an array even when fewer remain). */
  predict(question: string, context: string, options: PredictOptions): Promise<Answer | Answer[]>;
  /** Answers for many pairs, in order; windows of consecutive pairs share model calls. */
  predictBatch(items: QAItem[], options?: PredictOptions & { topK?: 1 }): Promise<Answer[]>;
  /** With topK > 1: each item's answers, an array of up to topK, best first. */
  predictBatch(items: QAItem[], options: PredictOptions): Promise<Answer[] | Answer[][]>;
  /** Free the model; awaiting is optional (never rejects). */
  dispose(): Promise<void>;
}

export interface QAClient extends Answering {}
export declare class QAClient {
  /** Load and verify (sha256 of every file) the model for a runtime. */
  static fromOptions(options?: QAClientOptions): Promise<QAClient>;
  readonly info: QAClientInfo;
}

/** Bad options or inputs. */
export declare class QAError extends Error {}
/** A model file is missing, unlisted or differs from its sha256 in the manifest. */
export declare class IntegrityError extends Error {}
/** A question/context pair that cannot be windowed (e.g. the question fills the window). */
export declare class DecodeError extends Error {}

/** The model directory inside this package. */
export declare const PACKAGE_MODEL_DIR: string;
export declare const MANIFEST: string;
export declare const MAX_LENGTH: number;
export declare const STRIDE: number;
export declare const MAX_ANSWER_LEN: number;

export default QAClient;
