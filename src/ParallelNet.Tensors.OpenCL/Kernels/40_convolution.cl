// im2col/col2im over a chunk of samples. The column matrix is [C*kh*kw, samples*oh*ow]: row (c, ki, kj) as in
// the weight layout [outC, C, kh, kw], column (s, i, j); so one GEMM serves the whole chunk.

#define GEOMETRY const int channels, const int height, const int width, const int kernel_h, const int kernel_w, \
    const int stride_h, const int stride_w, const int pad_h, const int pad_w, const int out_h, const int out_w

// One work-item per column entry; padded positions become 0.
__kernel void im2col_chunk(WORK_ITEMS, TENSOR(x), __global float* columns, const int samples, GEOMETRY)
{
    GUARD(index)
    int plane = out_h * out_w, width_total = samples * plane;
    int row = index / width_total, col = index % width_total;
    int s = col / plane, q = col % plane, i = q / out_w, j = q % out_w;
    int kj = row % kernel_w, ki = (row / kernel_w) % kernel_h, c = row / (kernel_w * kernel_h);
    int h = i * stride_h - pad_h + ki, w = j * stride_w - pad_w + kj;
    float v = 0.0f;
    if (h >= 0 && h < height && w >= 0 && w < width) v = AT(x)[((s * channels + c) * height + h) * width + w];
    columns[index] = v;
}

// One work-item per input element of the chunk: the sum, over kernel positions (ki, kj) in ascending order, of the
// column entries that read it. The CPU's col2im adds them in the same order, so equal columns give equal bits.
__kernel void col2im_chunk(WORK_ITEMS, __global float* columns, TENSOR(dx), const int samples, GEOMETRY)
{
    GUARD(index)
    int w = index % width, h = (index / width) % height, c = (index / (width * height)) % channels, s = index / (width * height * channels);
    int plane = out_h * out_w, width_total = samples * plane;
    float sum = 0.0f;
    for (int ki = 0; ki < kernel_h; ki++)
    {
        int hi = h + pad_h - ki;
        if (hi < 0 || hi % stride_h != 0) continue;
        int i = hi / stride_h;
        if (i >= out_h) continue;
        for (int kj = 0; kj < kernel_w; kj++)
        {
            int wj = w + pad_w - kj;
            if (wj < 0 || wj % stride_w != 0) continue;
            int j = wj / stride_w;
            if (j >= out_w) continue;
            int row = (c * kernel_h + ki) * kernel_w + kj;
            sum += columns[row * width_total + s * plane + i * out_w + j];
        }
    }
    AT(dx)[index] = sum;
}

// product [outC, samples*plane] → y [samples, outC, plane] (+ bias[o] when has_bias).
__kernel void scatter_chunk(WORK_ITEMS, __global float* product, TENSOR(y), TENSOR(bias), const int has_bias, const int out_channels, const int samples, const int plane)
{
    GUARD(index)
    int q = index % plane, o = (index / plane) % out_channels, s = index / (plane * out_channels);
    float v = product[o * samples * plane + s * plane + q];
    if (has_bias) v += AT(bias)[o];
    AT(y)[index] = v;
}

// dy [samples, outC, plane] → product [outC, samples*plane].
__kernel void gather_chunk(WORK_ITEMS, TENSOR(dy), __global float* product, const int out_channels, const int samples, const int plane)
{
    GUARD(index)
    int q = index % plane, o = (index / plane) % out_channels, s = index / (plane * out_channels);
    product[o * samples * plane + s * plane + q] = AT(dy)[index];
}
