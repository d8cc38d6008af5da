// y = (x − mean[c]) · rstd[c] over NCHW planes of L values: instance normalisation with statistics given from
// outside (whole-image statistics when an image is corrected tile by tile). stats = [mean[0..C), rstd[0..C)].

fn kernel(i: u32) {
  let c = (i / p.L) % p.C;
  y[i] = (x[i] - stats[c]) * stats[p.C + c];
}
