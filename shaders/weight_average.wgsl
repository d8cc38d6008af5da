// Exponential moving average of a parameter, in place: avg = decay · avg + (1 − decay) · param (Polyak averaging;
// torch.optim.swa_utils.get_ema_multi_avg_fn's update, with 1 − decay passed in from the CPU's double precision).

fn kernel(i: u32) {
  avg[i] = avg[i] * p.decay + p.oneMinusDecay * param[i];
}
