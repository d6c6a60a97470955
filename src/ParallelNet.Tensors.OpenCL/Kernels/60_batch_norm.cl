// Batch norm over x [n, channels, inner]: plane_sums gives Σ_i x per (sample, channel) plane, then
// per-channel kernels combine the planes in ascending sample order.

// stats[c] = mean of channel c.
__kernel void batch_norm_mean(WORK_ITEMS, __global acc_t* partials, __global acc_t* stats, const int samples, const int channels, const long count)
{
    GUARD(c)
    acc_t sum = 0;
    for (int n = 0; n < samples; n++) sum += partials[n * channels + c];
    stats[c] = sum / (acc_t)count;
}

// partials[plane] = Σ_i (x - mean)².
__kernel void batch_norm_square_partials(WORK_ITEMS, TENSOR(x), __global acc_t* stats, const int channels, const int inner, __global acc_t* partials)
{
    GUARD(plane)
    acc_t mean = stats[plane % channels];
    __global float* v = AT(x) + plane * inner;
    acc_t sum = 0;
    for (int i = 0; i < inner; i++)
    {
        acc_t d = v[i] - mean;
        sum += d * d;
    }
    partials[plane] = sum;
}

// Saves the statistics and writes the affine form y = x * scale + shift into affine[2c], affine[2c + 1].
__kernel void batch_norm_finish_training(WORK_ITEMS, __global acc_t* partials, __global acc_t* stats, TENSOR(gamma), TENSOR(beta),
    TENSOR(saved_mean), TENSOR(saved_inv_std), TENSOR(unbiased_variance), __global float* affine,
    const int samples, const int channels, const long count, const float epsilon)
{
    GUARD(c)
    acc_t squares = 0;
    for (int n = 0; n < samples; n++) squares += partials[n * channels + c];
    acc_t mean = stats[c];
    acc_t variance = squares / (acc_t)count;
    float inv_std = (float)((acc_t)1 / sqrt(variance + (acc_t)epsilon));
    AT(saved_mean)[c] = (float)mean;
    AT(saved_inv_std)[c] = inv_std;
    AT(unbiased_variance)[c] = (float)(squares / (acc_t)(count - 1));
    float scale = AT(gamma)[c] * inv_std;
    affine[2 * c] = scale;
    affine[2 * c + 1] = AT(beta)[c] - (float)mean * scale;
}

__kernel void batch_norm_inference_affine(WORK_ITEMS, TENSOR(gamma), TENSOR(beta), TENSOR(running_mean), TENSOR(running_variance),
    __global float* affine, const float epsilon)
{
    GUARD(c)
    float scale = AT(gamma)[c] / sqrt(AT(running_variance)[c] + epsilon);
    affine[2 * c] = scale;
    affine[2 * c + 1] = AT(beta)[c] - AT(running_mean)[c] * scale;
}

__kernel void batch_norm_apply(WORK_ITEMS, TENSOR(x), TENSOR(y), __global float* affine, const int channels, const int inner)
{
    GUARD(i)
    int c = (i / inner) % channels;
    AT(y)[i] = AT(x)[i] * affine[2 * c] + affine[2 * c + 1];
}

// partials[2 plane] = Σ dy, partials[2 plane + 1] = Σ dy * x̂ over the plane.
__kernel void batch_norm_backward_partials(WORK_ITEMS, TENSOR(x), TENSOR(dy), TENSOR(saved_mean), TENSOR(saved_inv_std),
    const int channels, const int inner, __global acc_t* partials)
{
    GUARD(plane)
    int c = plane % channels;
    float mean = AT(saved_mean)[c], inv_std = AT(saved_inv_std)[c];
    __global float* v = AT(x) + plane * inner;
    __global float* g = AT(dy) + plane * inner;
    acc_t sum_dy = 0, sum_dy_xhat = 0;
    for (int i = 0; i < inner; i++)
    {
        sum_dy += g[i];
        sum_dy_xhat += g[i] * ((v[i] - mean) * inv_std);
    }
    partials[2 * plane] = sum_dy;
    partials[2 * plane + 1] = sum_dy_xhat;
}

// Accumulates dgamma, dbeta and leaves (gamma * invStd, mean dy, mean dy x̂) in terms[3c..3c+2] for batch_norm_backward_apply.
__kernel void batch_norm_backward_finish(WORK_ITEMS, __global acc_t* partials, TENSOR(gamma), TENSOR(saved_inv_std), TENSOR(dgamma), TENSOR(dbeta),
    __global float* terms, const int samples, const int channels, const long count)
{
    GUARD(c)
    acc_t sum_dy = 0, sum_dy_xhat = 0;
    for (int n = 0; n < samples; n++)
    {
        sum_dy += partials[2 * (n * channels + c)];
        sum_dy_xhat += partials[2 * (n * channels + c) + 1];
    }
    AT(dbeta)[c] += (float)sum_dy;
    AT(dgamma)[c] += (float)sum_dy_xhat;
    terms[3 * c] = AT(gamma)[c] * AT(saved_inv_std)[c];
    terms[3 * c + 1] = (float)(sum_dy / (acc_t)count);
    terms[3 * c + 2] = (float)(sum_dy_xhat / (acc_t)count);
}

__kernel void batch_norm_backward_apply(WORK_ITEMS, TENSOR(x), TENSOR(dy), TENSOR(saved_mean), TENSOR(saved_inv_std), TENSOR(dx),
    __global float* terms, const int channels, const int inner)
{
    GUARD(i)
    int c = (i / inner) % channels;
    float xhat = (AT(x)[i] - AT(saved_mean)[c]) * AT(saved_inv_std)[c];
    AT(dx)[i] = terms[3 * c] * (AT(dy)[i] - terms[3 * c + 1] - xhat * terms[3 * c + 2]);
}
