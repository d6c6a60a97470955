namespace ParallelNet.Tensors.OpenCL.Internal;

/// <summary>Turns OpenCL and CLBlast status codes into exceptions that name the call and the code.</summary>
internal static class ClStatus
{
    public static void Check(int status, string call)
    {
        if (status != 0) throw new OpenClException($"{call} failed with {Describe(status)}.", status);
    }

    public static void CheckClBlast(int status, string call)
    {
        if (status != 0) throw new OpenClException($"{call} failed with {DescribeClBlast(status)}.", status);
    }

    public static string Describe(int status) => $"{status} ({Name(status)})";

    private static string DescribeClBlast(int status) => status switch
    {
        -1024 => "-1024 (CLBlastNotImplemented)",
        -1017 => "-1017 (CLBlastInvalidDimension)",
        -1016 => "-1016 (CLBlastInvalidLeadDimA)",
        -1015 => "-1015 (CLBlastInvalidLeadDimB)",
        -1014 => "-1014 (CLBlastInvalidLeadDimC)",
        -1011 => "-1011 (CLBlastInsufficientMemoryA)",
        -1010 => "-1010 (CLBlastInsufficientMemoryB)",
        -1009 => "-1009 (CLBlastInsufficientMemoryC)",
        -2046 => "-2046 (CLBlastInvalidLocalMemUsage)",
        -2041 => "-2041 (CLBlastDatabaseError)",
        -2040 => "-2040 (CLBlastUnknownError)",
        -2039 => "-2039 (CLBlastUnexpectedError)",
        _ => Describe(status),
    };

    private static string Name(int status) => status switch
    {
        0 => "CL_SUCCESS",
        -1 => "CL_DEVICE_NOT_FOUND",
        -2 => "CL_DEVICE_NOT_AVAILABLE",
        -3 => "CL_COMPILER_NOT_AVAILABLE",
        -4 => "CL_MEM_OBJECT_ALLOCATION_FAILURE",
        -5 => "CL_OUT_OF_RESOURCES",
        -6 => "CL_OUT_OF_HOST_MEMORY",
        -11 => "CL_BUILD_PROGRAM_FAILURE",
        -30 => "CL_INVALID_VALUE",
        -32 => "CL_INVALID_PLATFORM",
        -33 => "CL_INVALID_DEVICE",
        -34 => "CL_INVALID_CONTEXT",
        -36 => "CL_INVALID_COMMAND_QUEUE",
        -38 => "CL_INVALID_MEM_OBJECT",
        -43 => "CL_INVALID_BUILD_OPTIONS",
        -44 => "CL_INVALID_PROGRAM",
        -45 => "CL_INVALID_PROGRAM_EXECUTABLE",
        -46 => "CL_INVALID_KERNEL_NAME",
        -48 => "CL_INVALID_KERNEL",
        -49 => "CL_INVALID_ARG_INDEX",
        -50 => "CL_INVALID_ARG_VALUE",
        -51 => "CL_INVALID_ARG_SIZE",
        -52 => "CL_INVALID_KERNEL_ARGS",
        -54 => "CL_INVALID_WORK_GROUP_SIZE",
        -59 => "CL_INVALID_OPERATION",
        -61 => "CL_INVALID_BUFFER_SIZE",
        -63 => "CL_INVALID_GLOBAL_WORK_SIZE",
        -1001 => "CL_PLATFORM_NOT_FOUND_KHR",
        _ => "unknown status",
    };
}
