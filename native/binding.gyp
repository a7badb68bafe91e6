{
  'targets': [
    {
      'target_name': 'glyphlab_kernels',
      'sources': ['glyphlab_kernels.cc'],
      'cflags_cc': ['-std=c++17', '-O3'],
      'cflags_cc!': ['-fno-exceptions'],
      'conditions': [
        ['target_arch!="x64"', { 'sources!': ['glyphlab_kernels.cc'], 'sources': ['unsupported.cc'] }],
      ],
    },
  ],
}
