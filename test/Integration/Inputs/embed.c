/* A C program embedding the sample network through its generated header:
   weights from memory, one inference on a raw float input, the raw output
   written out. Usage: embed WEIGHTS.safetensors IN.bin OUT.bin */
#include "sample.h"

#include <stdio.h>
#include <stdlib.h>

static void *readAll(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  fseek(f, 0, SEEK_END);
  *size = (size_t)ftell(f);
  fseek(f, 0, SEEK_SET);
  void *data = malloc(*size ? *size : 1);
  if (fread(data, 1, *size, f) != *size) {
    free(data);
    data = NULL;
  }
  fclose(f);
  return data;
}

int main(int argc, char **argv) {
  if (argc != 4)
    return 2;
  size_t weightsSize = 0, inSize = 0;
  void *weights = readAll(argv[1], &weightsSize);
  float *in = (float *)readAll(argv[2], &inSize);
  if (!weights || !in)
    return 2;
  /* A truncated file is an error, not a crash. */
  if (ios_sample_create_from_memory(weights, 16) != NULL)
    return 3;
  printf("truncated: %s\n", ios_sample_error(NULL));
  void *model = ios_sample_create_from_memory(weights, weightsSize);
  free(weights); /* the runtime copied what it needs */
  if (!model) {
    printf("error: %s\n", ios_sample_error(NULL));
    return 1;
  }
  size_t outCount = 1 * 1875 * 15 * 15;
  float *out = (float *)malloc(outCount * sizeof(float));
  const float *inputs[IOS_SAMPLE_NUM_INPUTS] = {in};
  float *outputs[IOS_SAMPLE_NUM_OUTPUTS] = {out};
  if (!ios_sample_run(model, inputs, outputs)) {
    printf("error: %s\n", ios_sample_error(model));
    return 1;
  }
  FILE *f = fopen(argv[3], "wb");
  fwrite(out, sizeof(float), outCount, f);
  fclose(f);
  ios_sample_destroy(model);
  printf("ok\n");
  free(out);
  free(in);
  return 0;
}
