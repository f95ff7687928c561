import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";

/**
 * Builds `context`'s Dockerfile on the Docker host, without pushing. Returns the image ID
 * (repoDigest), which changes with the build context, so containers that run it are
 * replaced when the code changes and left alone when it does not.
 */
export function buildLocalImage(name: string, imageName: string, context: string, parent: pulumi.Resource): pulumi.Output<string> {
    const image = new docker.Image(
        name,
        {
            imageName,
            build: { context, dockerfile: path.join(context, "Dockerfile"), platform: "linux/amd64" },
            skipPush: true,
        },
        { parent },
    );
    return image.repoDigest;
}
