// qdq_ort.js MODEL.onnx IN.f32 N OUT.f32 LEVEL - runs an ONNX model with
// onnxruntime-node (bench/qdq_fidelity.sh installs it into a temporary
// directory and points NODE_PATH there) on N float32 inputs of the shape its
// input declares, one at a time, and writes the float32 outputs. LEVEL is
// onnxruntime's graph optimisation level: "all" (the default of an
// InferenceSession: QDQ groups fused into QLinearConv, QLinearAdd,
// QLinearAveragePool ...) or "disabled" (the QDQ graph evaluated in float
// as written).
// What it leaves out: batching, other execution providers.
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

async function main() {
  const [model, input, count, output, level] = process.argv.slice(2);
  const n = parseInt(count, 10);
  ort.env.logLevel = 'error';
  const session = await ort.InferenceSession.create(model, {graphOptimizationLevel: level || 'all', logSeverityLevel: 3});
  const name = session.inputNames[0];
  const meta = session.inputMetadata ? session.inputMetadata[0] : null;
  const raw = fs.readFileSync(input);
  const all = new Float32Array(raw.buffer, raw.byteOffset, raw.length / 4);
  const per = all.length / n;
  const dims = meta && meta.shape ? meta.shape.map((d) => (typeof d === 'number' ? d : 1)) : [1, per];
  const chunks = [];
  for (let i = 0; i < n; i++) {
    const x = new ort.Tensor('float32', all.slice(i * per, (i + 1) * per), dims);
    const out = await session.run({[name]: x});
    chunks.push(Buffer.from(out[session.outputNames[0]].data.buffer));
  }
  fs.writeFileSync(output, Buffer.concat(chunks));
}

main().catch((e) => {
  console.error('qdq_ort.js: ' + e.message);
  process.exit(1);
});
