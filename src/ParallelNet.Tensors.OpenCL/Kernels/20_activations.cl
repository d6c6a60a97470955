// Activation kinds, as numbered in ParallelNet.Tensors.ActivationKind.
#define ACT_IDENTITY 0
#define ACT_SIGMOID 1
#define ACT_TANH 2
#define ACT_RELU 3
#define ACT_LEAKY_RELU 4
#define ACT_STEP 5

__kernel void activation_forward(WORK_ITEMS, const int kind, const float alpha, TENSOR(x), TENSOR(y))
{
    GUARD(i)
    float v = AT(x)[i], r;
    switch (kind)
    {
        case ACT_SIGMOID: r = 1.0f / (1.0f + exp(-v)); break;
        case ACT_TANH: r = tanh(v); break;
        case ACT_RELU: r = v > 0.0f ? v : 0.0f; break;
        case ACT_LEAKY_RELU: r = v > 0.0f ? v : alpha * v; break;
        case ACT_STEP: r = v >= 0.0f ? 1.0f : 0.0f; break;
        default: r = v; break;
    }
    AT(y)[i] = r;
}

// Sigmoid and tanh differentiate through their output y.
__kernel void activation_backward_from_output(WORK_ITEMS, const int kind, TENSOR(y), TENSOR(dy), TENSOR(dx))
{
    GUARD(i)
    float out = AT(y)[i], g = AT(dy)[i];
    AT(dx)[i] = kind == ACT_SIGMOID ? g * out * (1.0f - out) : g * (1.0f - out * out);
}

// ReLU and leaky ReLU differentiate through their input x.
__kernel void activation_backward_from_input(WORK_ITEMS, const int kind, const float alpha, TENSOR(x), TENSOR(dy), TENSOR(dx))
{
    GUARD(i)
    float v = AT(x)[i], g = AT(dy)[i];
    AT(dx)[i] = v > 0.0f ? g : (kind == ACT_RELU ? 0.0f : alpha * g);
}

__kernel void prelu_forward(WORK_ITEMS, TENSOR(x), TENSOR(slope), TENSOR(y), const int channels, const int inner)
{
    GUARD(i)
    float v = AT(x)[i];
    AT(y)[i] = v > 0.0f ? v : AT(slope)[(i / inner) % channels] * v;
}

__kernel void prelu_backward_data(WORK_ITEMS, TENSOR(x), TENSOR(slope), TENSOR(dy), TENSOR(dx), const int channels, const int inner)
{
    GUARD(i)
    float v = AT(x)[i], g = AT(dy)[i];
    AT(dx)[i] = v > 0.0f ? g : AT(slope)[(i / inner) % channels] * g;
}

// partials[plane] = Σ dy * x over the plane's x <= 0 (the float product added in acc_t, as on the CPU).
__kernel void prelu_slope_partials(WORK_ITEMS, TENSOR(x), TENSOR(dy), const int inner, __global acc_t* partials)
{
    GUARD(plane)
    __global float* v = AT(x) + plane * inner;
    __global float* g = AT(dy) + plane * inner;
    acc_t sum = 0;
    for (int i = 0; i < inner; i++)
    {
        if (!(v[i] > 0.0f)) sum += g[i] * v[i];
    }
    partials[plane] = sum;
}

// Element i draws the stream's uniform at first_index + i (first_index = firstSample * perSample).
__kernel void rrelu_forward_training(WORK_ITEMS, TENSOR(x), TENSOR(y), TENSOR(slopes), const float lower, const float range,
    const ulong seed, const ulong stream, const ulong first_index)
{
    GUARD(i)
    float v = AT(x)[i];
    if (v > 0.0f)
    {
        AT(slopes)[i] = 1.0f;
        AT(y)[i] = v;
    }
    else
    {
        float a = lower + range * philox_uniform(seed, stream, first_index + (ulong)i);
        AT(slopes)[i] = a;
        AT(y)[i] = a * v;
    }
}

__kernel void rrelu_backward(WORK_ITEMS, TENSOR(x), TENSOR(slopes), TENSOR(dy), TENSOR(dx))
{
    GUARD(i)
    AT(dx)[i] = AT(x)[i] > 0.0f ? AT(dy)[i] : AT(dy)[i] * AT(slopes)[i];
}

__kernel void maxout_forward(WORK_ITEMS, TENSOR(x), TENSOR(y), const int pieces)
{
    GUARD(u)
    __global float* group = AT(x) + u * pieces;
    float best = group[0];
    for (int p = 1; p < pieces; p++)
    {
        if (group[p] > best) best = group[p];
    }
    AT(y)[u] = best;
}

// Writes the whole group: dy at the first arg-max, zero elsewhere.
__kernel void maxout_backward(WORK_ITEMS, TENSOR(x), TENSOR(dy), TENSOR(dx), const int pieces)
{
    GUARD(u)
    __global float* group = AT(x) + u * pieces;
    int arg = 0;
    for (int p = 1; p < pieces; p++)
    {
        if (group[p] > group[arg]) arg = p;
    }
    __global float* out = AT(dx) + u * pieces;
    for (int p = 0; p < pieces; p++) out[p] = p == arg ? AT(dy)[u] : 0.0f;
}

__kernel void dropout_forward(WORK_ITEMS, TENSOR(x), TENSOR(y), TENSOR(mask), const float p, const float keep_scale,
    const ulong seed, const ulong stream, const ulong first_index)
{
    GUARD(i)
    float m = philox_uniform(seed, stream, first_index + (ulong)i) >= p ? keep_scale : 0.0f;
    AT(mask)[i] = m;
    AT(y)[i] = AT(x)[i] * m;
}
