// The GEMM of workgroup z in a Winograd dispatch (conv_winograd_gemm*.wgsl): planes from p.planes on belong to the
// second set (M2 … transA2). Its shape, whether a is stored transposed, and its operands' element offsets.
struct GemmPlane { M: u32, N: u32, K: u32, transA: bool, a: u32, b: u32, c: u32 }

fn gemmPlane(wz: u32) -> GemmPlane {
  let second = wz >= p.planes;
  let z = select(wz, wz - p.planes, second);
  let M = select(p.M, p.M2, second);
  let N = select(p.N, p.N2, second);
  let K = select(p.K, p.K2, second);
  let transA = select(p.transA, p.transA2, second) != 0u;
  let a = select(p.aAt, p.aAt2, second) + z * M * K;
  let b = select(p.bAt, p.bAt2, second) + z * K * N;
  let c = select(p.cAt, p.cAt2, second) + z * M * N;
  return GemmPlane(M, N, K, transA, a, b, c);
}
