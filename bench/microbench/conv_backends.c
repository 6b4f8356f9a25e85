/*
 * conv_backends.c - the micro-benchmark that chose the training engine's
 * convolution library (docs/benchmarks.md, "Choosing the library"): the
 * convolution shapes of resnet8, ds-cnn-s, mnist-paper and lenet5 at a
 * per-thread batch (default 16, what each of 2 threads gets of a batch of
 * 32), forward, backward-data and backward-weights, single-threaded, on
 *   - oneDNN 2.6 (libdnnl-dev), NHWC activations, weights in the layout its
 *     kernel picks (format "any") with the reorders from/to ours counted in,
 *   - mcuopt's own loops (src/train/layer_conv.c, forward and backward),
 *   - im2col / col2im + OpenBLAS sgemm (libopenblas-dev), single-threaded.
 * Each time is the minimum of 10 runs of the thread's CPU time
 * (CLOCK_THREAD_CPUTIME_ID: usable while the machine is busy, unlike wall
 * time). One-off tool, not built by CMake (it needs libopenblas-dev, which
 * the project does not); "valid" shapes are run with "same" padding.
 *
 * Build and run from the repo root after building the project in build/:
 *   apt-get install libopenblas-dev
 *   gcc -O3 -std=c11 -Isrc/train -Iinclude/core -Iinclude/train \
 *       -I/usr/include/x86_64-linux-gnu/openblas-pthread bench/microbench/conv_backends.c \
 *       -Wl,--start-group build/src/*.a build/libmcuopt_runtime.a -Wl,--end-group \
 *       -ldnnl -lopenblas -lgomp -lz -lm -lpthread -o /tmp/conv_backends && /tmp/conv_backends 16
 *
 * What it leaves out: depthwise on BLAS (no GEMM form worth having),
 * multi-threaded library calls (the engine never makes them).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <omp.h>
#include <cblas.h>
#include <dnnl.h>
#include "layer_ops.h"
#include "mcuopt/graph.h"

#define CK(x) do { dnnl_status_t s_ = (x); if (s_ != dnnl_success) { fprintf(stderr, "%s:%d %s -> %d\n", __FILE__, __LINE__, #x, (int)s_); exit(1);} } while (0)
extern void openblas_set_num_threads(int);
static double now(void){struct timespec t;clock_gettime(CLOCK_THREAD_CPUTIME_ID,&t);return t.tv_sec+1e-9*t.tv_nsec;}
static dnnl_engine_t eng; static dnnl_stream_t strm;
typedef struct { const char *name; int B,H,W,C,OC,KH,KW,S,dw; } shape;

static float *rnd(size_t n){float*p=aligned_alloc(64,((n*4+63)/64)*64);for(size_t i=0;i<n;i++)p[i]=(float)rand()/RAND_MAX-0.5f;return p;}
static const char *impl(const_dnnl_primitive_desc_t pd){const char*s;dnnl_primitive_desc_query(pd,dnnl_query_impl_info_str,0,&s);return s;}
static dnnl_memory_t mem(const dnnl_memory_desc_t *md, void *p){dnnl_memory_t m;CK(dnnl_memory_create(&m,md,eng,p?p:DNNL_MEMORY_ALLOCATE));return m;}
static void exec(dnnl_primitive_t p,int n,dnnl_exec_arg_t*a){CK(dnnl_primitive_execute(p,strm,n,a));CK(dnnl_stream_wait(strm));}
static const dnnl_memory_desc_t *qmd(const_dnnl_primitive_desc_t pd, dnnl_query_t q){return dnnl_primitive_desc_query_md(pd,q,0);}

#define REPS 10
#define TIME(var, ...) do { double best=1e9; for(int r_=0;r_<REPS;r_++){double t0_=now(); __VA_ARGS__; double d_=now()-t0_; if(d_<best)best=d_;} var=best*1e3; } while(0)

static void run(shape s, int weights_any)
{
    int OH=(s.H+s.S-1)/s.S, OW=(s.W+s.S-1)/s.S;
    int ph=((OH-1)*s.S+s.KH-s.H); if(ph<0)ph=0; int pw=((OW-1)*s.S+s.KW-s.W); if(pw<0)pw=0;
    int OC = s.dw ? s.C : s.OC;
    size_t nin=(size_t)s.B*s.H*s.W*s.C, nout=(size_t)s.B*OH*OW*OC, nw=(size_t)OC*s.KH*s.KW*(s.dw?1:s.C);
    float *x=rnd(nin),*dx=rnd(nin),*y=rnd(nout),*dy=rnd(nout),*w=rnd(nw),*dw=rnd(nw),*b=rnd(OC),*db=rnd(OC);
    dnnl_memory_desc_t src,dst,wt,bias,wt_user;
    dnnl_dims_t sd={s.B,s.C,s.H,s.W}, dd={s.B,OC,OH,OW}, bd={OC};
    CK(dnnl_memory_desc_init_by_tag(&src,4,sd,dnnl_f32,dnnl_nhwc));
    CK(dnnl_memory_desc_init_by_tag(&dst,4,dd,dnnl_f32,dnnl_nhwc));
    CK(dnnl_memory_desc_init_by_tag(&bias,1,bd,dnnl_f32,dnnl_x));
    if(s.dw){dnnl_dims_t wd={s.C,1,1,s.KH,s.KW}; CK(dnnl_memory_desc_init_by_tag(&wt_user,5,wd,dnnl_f32,dnnl_hwigo)); CK(dnnl_memory_desc_init_by_tag(&wt,5,wd,dnnl_f32,weights_any?dnnl_format_tag_any:dnnl_hwigo));}
    else {dnnl_dims_t wd={OC,s.C,s.KH,s.KW}; CK(dnnl_memory_desc_init_by_tag(&wt_user,4,wd,dnnl_f32,dnnl_ohwi)); CK(dnnl_memory_desc_init_by_tag(&wt,4,wd,dnnl_f32,weights_any?dnnl_format_tag_any:dnnl_ohwi));}
    dnnl_dims_t st={s.S,s.S}, pl={ph/2,pw/2}, pr={ph-ph/2,pw-pw/2};
    dnnl_convolution_desc_t fd,bdd,bwd;
    CK(dnnl_convolution_forward_desc_init(&fd,dnnl_forward_training,dnnl_convolution_direct,&src,&wt,&bias,&dst,st,pl,pr));
    dnnl_primitive_desc_t fpd,bdpd,bwpd;
    CK(dnnl_primitive_desc_create(&fpd,&fd,NULL,eng,NULL));
    CK(dnnl_convolution_backward_data_desc_init(&bdd,dnnl_convolution_direct,&src,&wt,&dst,st,pl,pr));
    CK(dnnl_primitive_desc_create(&bdpd,&bdd,NULL,eng,fpd));
    CK(dnnl_convolution_backward_weights_desc_init(&bwd,dnnl_convolution_direct,&src,&wt,&bias,&dst,st,pl,pr));
    CK(dnnl_primitive_desc_create(&bwpd,&bwd,NULL,eng,fpd));
    dnnl_primitive_t fp,bdp,bwp; CK(dnnl_primitive_create(&fp,fpd));CK(dnnl_primitive_create(&bdp,bdpd));CK(dnnl_primitive_create(&bwp,bwpd));
    /* weights memories in the chosen formats + reorders from/to user */
    const dnnl_memory_desc_t *fw=qmd(fpd,dnnl_query_weights_md), *bw=qmd(bdpd,dnnl_query_weights_md), *dwm=qmd(bwpd,dnnl_query_diff_weights_md);
    dnnl_memory_t mx=mem(&src,x),mdx=mem(&src,dx),my=mem(&dst,y),mdy=mem(&dst,dy),mb=mem(&bias,b),mdb=mem(&bias,db);
    dnnl_memory_t mwu=mem(&wt_user,w),mdwu=mem(&wt_user,dw);
    dnnl_memory_t mwf=mem(fw,NULL),mwb=mem(bw,NULL),mdwi=mem(dwm,NULL);
    dnnl_primitive_t r1=NULL,r2=NULL,r3=NULL; dnnl_primitive_desc_t rpd;
    if(!dnnl_memory_desc_equal(fw,&wt_user)){CK(dnnl_reorder_primitive_desc_create(&rpd,&wt_user,eng,fw,eng,NULL));CK(dnnl_primitive_create(&r1,rpd));}
    if(!dnnl_memory_desc_equal(bw,&wt_user)){CK(dnnl_reorder_primitive_desc_create(&rpd,&wt_user,eng,bw,eng,NULL));CK(dnnl_primitive_create(&r2,rpd));}
    if(!dnnl_memory_desc_equal(dwm,&wt_user)){CK(dnnl_reorder_primitive_desc_create(&rpd,dwm,eng,&wt_user,eng,NULL));CK(dnnl_primitive_create(&r3,rpd));}
    dnnl_memory_t wfm = r1?mwf:mwu, wbm=r2?mwb:mwu, dwmm=r3?mdwi:mdwu;
    double tf,tbd,tbw;
    TIME(tf, { if(r1){dnnl_exec_arg_t a[2]={{DNNL_ARG_FROM,mwu},{DNNL_ARG_TO,mwf}};exec(r1,2,a);} dnnl_exec_arg_t a[4]={{DNNL_ARG_SRC,mx},{DNNL_ARG_WEIGHTS,wfm},{DNNL_ARG_BIAS,mb},{DNNL_ARG_DST,my}}; exec(fp,4,a); });
    TIME(tbd, { if(r2){dnnl_exec_arg_t a[2]={{DNNL_ARG_FROM,mwu},{DNNL_ARG_TO,mwb}};exec(r2,2,a);} dnnl_exec_arg_t a[3]={{DNNL_ARG_DIFF_SRC,mdx},{DNNL_ARG_WEIGHTS,wbm},{DNNL_ARG_DIFF_DST,mdy}}; exec(bdp,3,a); });
    TIME(tbw, { dnnl_exec_arg_t a[4]={{DNNL_ARG_SRC,mx},{DNNL_ARG_DIFF_WEIGHTS,dwmm},{DNNL_ARG_DIFF_BIAS,mdb},{DNNL_ARG_DIFF_DST,mdy}}; exec(bwp,4,a); if(r3){dnnl_exec_arg_t b_[2]={{DNNL_ARG_FROM,mdwi},{DNNL_ARG_TO,mdwu}};exec(r3,2,b_);} });
    double flops = 2.0*nout*s.KH*s.KW*(s.dw?1:s.C)/1e6; /* MFLOP per pass */
    printf("%-22s dnnl w=%-4s fwd %7.3f bwd_d %7.3f bwd_w %7.3f ms  (%5.1f GF/s avg) [%s | %s | %s]\n", s.name, weights_any?"any":"user",
        tf,tbd,tbw, 3*flops/(tf+tbd+tbw), impl(fpd), impl(bdpd), impl(bwpd));
    if (weights_any) {
        /* mcuopt reference */
        mco_layer L; memset(&L,0,sizeof L); L.type=s.dw?MCO_LAYER_DEPTHWISE_CONV2D:MCO_LAYER_CONV2D; L.units=OC; L.kernel_h=s.KH; L.kernel_w=s.KW; L.stride_h=L.stride_w=s.S; L.padding=MCO_PADDING_SAME;
        L.in_shape=(mco_shape){s.H,s.W,s.C}; L.out_shape=(mco_shape){OH,OW,OC}; L.n_params=2; L.params[0].size=nw; L.params[0].data=w; L.params[1].size=OC; L.params[1].data=b;
        const mco_layer_ops *ops=mco_layer_ops_get(L.type);
        void *scr = ops->scratch_bytes? aligned_alloc(64, mco_align64(ops->scratch_bytes(&L,s.B))):NULL;
        mco_layer_ctx c; memset(&c,0,sizeof c); c.layer=&L;c.batch=s.B;c.training=1;c.in[0]=x;c.out=y;c.grad_out=dy;c.grad_in[0]=dx;c.param_grad[0]=dw;c.param_grad[1]=db;c.scratch=scr;
        double rf,rb; TIME(rf, ops->forward(&c)); TIME(rb, ops->backward(&c));
        printf("%-22s ref          fwd %7.3f bwd(d+w) %7.3f ms  (%5.1f GF/s avg)\n", s.name, rf, rb, 3*flops/(rf+rb));
        if (!s.dw) {
            /* im2col + sgemm */
            int K=s.KH*s.KW*s.C; size_t P=(size_t)s.B*OH*OW; float *col=rnd(P*K);
            double gf,gbd,gbw;
            #define IM2COL(dir) for(int n=0;n<s.B;n++)for(int oy=0;oy<OH;oy++)for(int ox=0;ox<OW;ox++){float*cr=col+(((size_t)n*OH+oy)*OW+ox)*K; for(int ky=0;ky<s.KH;ky++){int iy=oy*s.S-pl[0]+ky; for(int kx=0;kx<s.KW;kx++){int ix=ox*s.S-pl[1]+kx; float*cp=cr+(ky*s.KW+kx)*s.C; if(iy<0||iy>=s.H||ix<0||ix>=s.W){ if(!dir) memset(cp,0,s.C*4); continue;} float*xp=(dir?dx:x)+(((size_t)n*s.H+iy)*s.W+ix)*s.C; if(!dir) memcpy(cp,xp,s.C*4); else for(int c_=0;c_<s.C;c_++) xp[c_]+=cp[c_];}}}
            int direct = (s.KH==1&&s.KW==1&&s.S==1);
            TIME(gf, { if(!direct){IM2COL(0)} cblas_sgemm(CblasRowMajor,CblasNoTrans,CblasTrans,(int)P,OC,K,1.f,direct?x:col,K,w,K,0.f,y,OC); });
            TIME(gbw, { if(!direct){IM2COL(0)} cblas_sgemm(CblasRowMajor,CblasTrans,CblasNoTrans,OC,K,(int)P,1.f,dy,OC,direct?x:col,K,0.f,dw,K); });
            TIME(gbd, { cblas_sgemm(CblasRowMajor,CblasNoTrans,CblasNoTrans,(int)P,K,OC,1.f,dy,OC,w,K,0.f,direct?dx:col,K); if(!direct){IM2COL(1)} });
            printf("%-22s im2col+blas  fwd %7.3f bwd_d %7.3f bwd_w %7.3f ms  (%5.1f GF/s avg)\n", s.name, gf,gbd,gbw, 3*flops/(gf+gbd+gbw));
            free(col);
        }
        free(scr);
    }
}

int main(int argc,char**argv)
{
    int B = argc>1?atoi(argv[1]):16; setvbuf(stdout,NULL,_IOLBF,0);
    omp_set_num_threads(1); openblas_set_num_threads(1);
    CK(dnnl_engine_create(&eng,dnnl_cpu,0)); CK(dnnl_stream_create(&strm,eng,dnnl_stream_default_flags));
    shape shapes[]={
        {"r8 stem 32x32x3>16",B,32,32,3,16,3,3,1,0},
        {"r8 32x32x16>16",B,32,32,16,16,3,3,1,0},
        {"r8 32x32x16>32 s2",B,32,32,16,32,3,3,2,0},
        {"r8 16x16x32>32",B,16,16,32,32,3,3,1,0},
        {"r8 1x1 16>32 s2",B,32,32,16,32,1,1,2,0},
        {"r8 16x16x32>64 s2",B,16,16,32,64,3,3,2,0},
        {"r8 8x8x64>64",B,8,8,64,64,3,3,1,0},
        {"ds 49x10x1>64 10x4s2",B,49,10,1,64,10,4,2,0},
        {"ds dw 25x5x64",B,25,5,64,64,3,3,1,1},
        {"ds 1x1 25x5x64>64",B,25,5,64,64,1,1,1,0},
        {"mp 28x28x1>12 valid",B,28,28,1,12,3,3,1,0},
        {"l5 28x28x1>6 5x5",B,28,28,1,6,5,5,1,0},
        {"l5 14x14x6>16 5x5",B,14,14,6,16,5,5,1,0},
    };
    for(size_t i=0;i<sizeof shapes/sizeof shapes[0];i++){ run(shapes[i],1); }
    return 0;
}
