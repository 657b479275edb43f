// The heat overlays: a copy of the skin, skinned like it, each vertex coloured from a storage
// buffer (straight alpha, linear), blended by the pipeline. The colours change every frame
// while the heat eases; kept in their own buffer, a change uploads 16 bytes a vertex instead
// of the whole mesh (Bevy uploads a changed mesh whole, indices included). The fragment
// stage does what Bevy's shaders do after lighting when the camera tonemaps in the shader:
// StandardMaterial's unlit path gave the same pixels but ran most of the PBR fragment code.
#import bevy_pbr::mesh_bindings::mesh
#import bevy_pbr::mesh_functions
#import bevy_pbr::mesh_view_bindings::view
#import bevy_pbr::view_transformations::position_world_to_clip
#ifdef SKINNED
#import bevy_pbr::skinning
#endif
#ifdef TONEMAP_IN_SHADER
#import bevy_core_pipeline::tonemapping::{tone_mapping, screen_space_dither}
#import bevy_render::maths::powsafe
#endif

@group(#{MATERIAL_BIND_GROUP}) @binding(0) var<storage, read> colours: array<vec4<f32>>;
// The skin's posture correctives, target after target, an offset per vertex (in the mesh's
// space, before skinning), and how much of each the posture takes now.
@group(#{MATERIAL_BIND_GROUP}) @binding(1) var<storage, read> correctives: array<vec4<f32>>;
@group(#{MATERIAL_BIND_GROUP}) @binding(2) var<uniform> corrective_weights: vec4<f32>;

struct Vertex {
    @builtin(instance_index) instance_index: u32,
    @builtin(vertex_index) vertex_index: u32,
    @location(0) position: vec3<f32>,
#ifdef SKINNED
    @location(6) joint_indices: vec4<u32>,
    @location(7) joint_weights: vec4<f32>,
#endif
};

struct Varyings {
    @builtin(position) position: vec4<f32>,
    @location(0) colour: vec4<f32>,
};

@vertex
fn vertex(v: Vertex) -> Varyings {
    // The mesh shares its vertex buffer with others: its own index starts at its first vertex.
    let own_index = v.vertex_index - mesh[v.instance_index].first_vertex_index;
    var position = v.position;
    // One colour per vertex: the buffer's length is the vertex count.
    let vertex_count = arrayLength(&colours);
    let targets = min(arrayLength(&correctives) / vertex_count, 4u);
    for (var k: u32 = 0u; k < targets; k++) {
        let weight = corrective_weights[k];
        if weight != 0.0 {
            position += weight * correctives[k * vertex_count + own_index].xyz;
        }
    }
#ifdef SKINNED
    let world_from_local = skinning::skin_model(v.joint_indices, v.joint_weights, v.instance_index);
#else
    let world_from_local = mesh_functions::get_world_from_local(v.instance_index);
#endif
    let world = mesh_functions::mesh_position_local_to_world(world_from_local, vec4<f32>(position, 1.0));
    var out: Varyings;
    out.position = position_world_to_clip(world.xyz);
    out.colour = colours[own_index];
    return out;
}

@fragment
fn fragment(in: Varyings) -> @location(0) vec4<f32> {
    var colour = in.colour;
#ifdef TONEMAP_IN_SHADER
    colour = tone_mapping(colour, view.color_grading);
#ifdef DEBAND_DITHER
    var rgb = powsafe(colour.rgb, 1.0 / 2.2);
    rgb += screen_space_dither(in.position.xy);
    colour = vec4<f32>(powsafe(rgb, 2.2), colour.a);
#endif
#endif
    return colour;
}
