// Embedding lookup and its gradient, the batch-major/time-major swap and the LSTM cell
// (gate order i, f, g, o as in torch.nn.LSTM), as in ParallelNet.Tensors.Cpu.Kernels.Embedding/Recurrent.

// flag = the smallest position whose value is not an integral id in [0, vocabulary) (INT_MAX when all are).
__kernel void embedding_find_bad_index(WORK_ITEMS, TENSOR(indices), const int vocabulary, __global int* flag)
{
    GUARD(r)
    float value = AT(indices)[r];
    int id = (int)value;
    if ((float)id != value || id < 0 || id >= vocabulary) atomic_min(flag, r);
}

__kernel void embedding_forward(WORK_ITEMS, TENSOR(indices), TENSOR(table), TENSOR(y), const int dimension)
{
    GUARD(i)
    int r = i / dimension, d = i - r * dimension;
    AT(y)[i] = AT(table)[(int)AT(indices)[r] * dimension + d];
}

// One work-item per column: rows are added in ascending r, so repeated ids sum in the CPU's order.
__kernel void embedding_backward(WORK_ITEMS, TENSOR(indices), TENSOR(dy), TENSOR(dtable), const int count)
{
    GUARD(d)
    const int dimension = work_items;
    for (int r = 0; r < count; r++)
    {
        int id = (int)AT(indices)[r];
        AT(dtable)[id * dimension + d] += AT(dy)[r * dimension + d];
    }
}

// x [outer, middle, inner] -> y [middle, outer, inner]; one work-item per element of y.
__kernel void swap_leading_axes(WORK_ITEMS, TENSOR(x), TENSOR(y), const int outer, const int middle, const int inner)
{
    GUARD(i)
    int k = i % inner, rest = i / inner;
    int a = rest % outer, b = rest / outer;
    AT(y)[i] = AT(x)[(a * middle + b) * inner + k];
}

inline float lstm_sigmoid(float v) { return 1.0f / (1.0f + exp(-v)); }

// One work-item per (row, hidden unit): activates the four gates in place and writes cell, tanh(cell), hidden.
__kernel void lstm_cell_forward(WORK_ITEMS, TENSOR(gates), TENSOR(previous_cell), TENSOR(cell), TENSOR(tanh_cell), TENSOR(hidden), const int h)
{
    GUARD(i)
    int r = i / h, j = i - r * h;
    __global float* g = AT(gates) + r * 4 * h;
    float in = lstm_sigmoid(g[j]), forget = lstm_sigmoid(g[h + j]), candidate = tanh(g[2 * h + j]), out = lstm_sigmoid(g[3 * h + j]);
    g[j] = in;
    g[h + j] = forget;
    g[2 * h + j] = candidate;
    g[3 * h + j] = out;
    float c = forget * AT(previous_cell)[i];
    c = in * candidate + c;
    float t = tanh(c);
    AT(cell)[i] = c;
    AT(tanh_cell)[i] = t;
    AT(hidden)[i] = out * t;
}

// The same products in the same order as the CPU kernel, so the backward pass agrees bit for bit.
__kernel void lstm_cell_backward(WORK_ITEMS, TENSOR(gates), TENSOR(previous_cell), TENSOR(tanh_cell), TENSOR(hidden_gradient),
    TENSOR(cell_gradient), TENSOR(gate_gradients), const int h)
{
    GUARD(i)
    int r = i / h, j = i - r * h;
    __global float* g = AT(gates) + r * 4 * h;
    __global float* dg = AT(gate_gradients) + r * 4 * h;
    float in = g[j], f = g[h + j], c = g[2 * h + j], o = g[3 * h + j], t = AT(tanh_cell)[i], dh = AT(hidden_gradient)[i];
    float total = AT(cell_gradient)[i] + dh * o * (1.0f - t * t);
    dg[j] = total * c * in * (1.0f - in);
    dg[h + j] = total * AT(previous_cell)[i] * f * (1.0f - f);
    dg[2 * h + j] = total * in * (1.0f - c * c);
    dg[3 * h + j] = dh * t * o * (1.0f - o);
    AT(cell_gradient)[i] = total * f;
}
