// Pooling over NCHW planes, PyTorch semantics (floor mode, count_include_pad for averages).

#define POOL_GEOMETRY const int height, const int width, const int kernel_h, const int kernel_w, \
    const int stride_h, const int stride_w, const int pad_h, const int pad_w, const int out_h, const int out_w

// Index in the plane of the first maximum of window (i, j), scanning rows then columns; NaN wins, as in Pooling.ArgMax.
inline int window_arg_max(__global const float* image, int i, int j, POOL_GEOMETRY)
{
    int h0 = i * stride_h - pad_h, w0 = j * stride_w - pad_w;
    int h_start = max(h0, 0), h_end = min(h0 + kernel_h, height);
    int w_start = max(w0, 0), w_end = min(w0 + kernel_w, width);
    int best = h_start * width + w_start;
    for (int h = h_start; h < h_end; h++)
    {
        for (int w = w_start; w < w_end; w++)
        {
            float b = image[best], c = image[h * width + w];
            if (c > b || (isnan(c) && !isnan(b))) best = h * width + w;
        }
    }
    return best;
}

#define POOL_ARGS height, width, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, out_h, out_w

__kernel void max_pool_forward(WORK_ITEMS, TENSOR(x), TENSOR(y), POOL_GEOMETRY)
{
    GUARD(index)
    int j = index % out_w, i = (index / out_w) % out_h, p = index / (out_w * out_h);
    __global float* image = AT(x) + p * height * width;
    AT(y)[index] = image[window_arg_max(image, i, j, POOL_ARGS)];
}

// First output row/column whose window can contain input position h (windows are ascending, so this bounds the scan).
inline int first_window(int h, int pad, int size, int stride) { int t = h + pad - size + 1; return t <= 0 ? 0 : (t + stride - 1) / stride; }
inline int last_window(int h, int pad, int stride, int count) { return min((h + pad) / stride, count - 1); }

// One work-item per input element: dy of every window, in ascending (i, j), whose first maximum is this element.
__kernel void max_pool_backward(WORK_ITEMS, TENSOR(x), TENSOR(dy), TENSOR(dx), POOL_GEOMETRY)
{
    GUARD(index)
    int w = index % width, h = (index / width) % height, p = index / (width * height);
    __global float* image = AT(x) + p * height * width;
    __global float* upstream = AT(dy) + p * out_h * out_w;
    int self = h * width + w;
    float sum = 0.0f;
    for (int i = first_window(h, pad_h, kernel_h, stride_h); i <= last_window(h, pad_h, stride_h, out_h); i++)
    {
        for (int j = first_window(w, pad_w, kernel_w, stride_w); j <= last_window(w, pad_w, stride_w, out_w); j++)
        {
            if (window_arg_max(image, i, j, POOL_ARGS) == self) sum += upstream[i * out_w + j];
        }
    }
    AT(dx)[index] = sum;
}

__kernel void avg_pool_forward(WORK_ITEMS, TENSOR(x), TENSOR(y), const float inverse_area, POOL_GEOMETRY)
{
    GUARD(index)
    int j = index % out_w, i = (index / out_w) % out_h, p = index / (out_w * out_h);
    __global float* image = AT(x) + p * height * width;
    int h0 = i * stride_h - pad_h, w0 = j * stride_w - pad_w;
    int h_start = max(h0, 0), h_end = min(h0 + kernel_h, height);
    int w_start = max(w0, 0), w_end = min(w0 + kernel_w, width);
    float sum = 0.0f;
    for (int h = h_start; h < h_end; h++)
    {
        for (int w = w_start; w < w_end; w++) sum += image[h * width + w];
    }
    AT(y)[index] = sum * inverse_area;
}

__kernel void avg_pool_backward(WORK_ITEMS, TENSOR(dy), TENSOR(dx), const float inverse_area, POOL_GEOMETRY)
{
    GUARD(index)
    int w = index % width, h = (index / width) % height, p = index / (width * height);
    __global float* upstream = AT(dy) + p * out_h * out_w;
    float sum = 0.0f;
    for (int i = first_window(h, pad_h, kernel_h, stride_h); i <= last_window(h, pad_h, stride_h, out_h); i++)
    {
        for (int j = first_window(w, pad_w, kernel_w, stride_w); j <= last_window(w, pad_w, stride_w, out_w); j++)
            sum += upstream[i * out_w + j] * inverse_area;
    }
    AT(dx)[index] = sum;
}
